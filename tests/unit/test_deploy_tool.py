"""tools/deploy.py's AWS side, against botocore's Stubber and the moto server.

CloudFormation's stack states cannot be produced by moto (it cannot import Chalice's
swagger), so every CloudFormation conversation is scripted with Stubber: each test
lists, in order, the calls the tool must make and the answers AWS would give. Stubber
fails the test on any call not listed, or with other parameters. S3, SSM, Cognito,
DynamoDB, IAM and API Gateway run on the shared moto server (the ``aws`` fixture).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from tools import deploy
from tools.deploy import (
    ChangeSet,
    DeployError,
    DeployOptions,
    NextStep,
    Preparation,
    Retained,
    Target,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/support-tickets-dev/1"
CHANGE_SET_ID = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/cs/1"
URL = "https://bucket.s3.eu-west-1.amazonaws.com/dev/template.json"


# --------------------------------------------------------------------------- fakes


class FakeSession:
    """A boto3 session handing out the given (stubbed) clients."""

    def __init__(self, region: str, clients: dict[str, Any]) -> None:
        self.region_name = region
        self._clients = clients

    def client(self, service: str) -> Any:
        return self._clients[service]


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    """A real CloudFormation client whose every answer comes from the test's script."""
    client = boto3.session.Session(region_name="eu-west-1").client("cloudformation")
    with Stubber(client) as stubber:
        yield client, stubber
        # Then every call the script expected was made
        stubber.assert_no_pending_responses()


def stack(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "support-tickets-dev",
                "StackId": STACK_ID,
                "CreationTime": NOW,
                "StackStatus": status,
                **extra,
            }
        ]
    }


def expect_change_set(
    stubber: Stubber,
    change_set_type: str,
    *,
    stack_name: str = "support-tickets-dev",
    parameters: list[dict[str, str]] | None = None,
    final_status: str | None = None,
) -> None:
    """The calls of one successful change set: create, wait, execute, wait."""
    request: dict[str, Any] = {
        "StackName": stack_name,
        "ChangeSetName": ANY,
        "ChangeSetType": change_set_type,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "app", "Value": "support-tickets"}],
        "TemplateURL": URL,
    }
    if parameters:
        request["Parameters"] = parameters
    if change_set_type == "CREATE":
        request["OnStackFailure"] = "DELETE"
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID}, request)
    stubber.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "ChangeSetName": "cs"},
        {"ChangeSetName": CHANGE_SET_ID},
    )
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    done = (
        final_status or {"CREATE": "CREATE_COMPLETE", "UPDATE": "UPDATE_COMPLETE"}[change_set_type]
    )
    stubber.add_response("describe_stacks", stack(done), {"StackName": STACK_ID})


def expect_no_leftover_change_sets(stubber: Stubber, name: str = "support-tickets-dev") -> None:
    stubber.add_response("list_change_sets", {"Summaries": []}, {"StackName": name})


def preparation(stage: str, step: NextStep, client: Any, **overrides: Any) -> Preparation:
    session = FakeSession("eu-west-1", {"cloudformation": client})
    target = Target(session, "eu-west-1", "AWS_REGION", "123456789012", "arn:aws:iam::1:user/a")
    values: dict[str, Any] = {
        "retained": Retained(None, ()),
        "parameters": {},
        "protect_after_create": False,
        "logging_role": "arn:aws:iam::123456789012:role/logs",
        "keys": ((f"/support-tickets/{stage}/cursor-key", "Signs the API's page cursors"),),
        "notes": [],
        **overrides,
    }
    return Preparation(stage=stage, target=target, step=step, **values)


def answers(*replies: str) -> Any:
    """An ``input`` that gives these replies in turn, and records each prompt."""
    prompts: list[str] = []
    queue = list(replies)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return queue.pop(0)

    ask.prompts = prompts  # type: ignore[attr-defined]
    return ask


# --------------------------------------------------------------------------- region


def test_region_comes_from_aws_region_then_aws_default_region_then_the_profile() -> None:
    # Given each place a region can be set
    both = {"AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "us-west-2"}
    # Then AWS_REGION wins (boto3 alone would ignore it), then AWS_DEFAULT_REGION, then the
    # profile's region, and the tool says where it found it
    assert deploy.resolve_region(both, "ap-south-1") == ("eu-north-1", "AWS_REGION")
    assert deploy.resolve_region({"AWS_DEFAULT_REGION": "us-west-2"}, "ap-south-1") == (
        "us-west-2",
        "AWS_DEFAULT_REGION",
    )
    assert deploy.resolve_region({"AWS_REGION": " "}, "ap-south-1") == (
        "ap-south-1",
        "the profile",
    )
    # And with none of them it says what to set
    with pytest.raises(DeployError, match="No AWS region: export AWS_REGION"):
        deploy.resolve_region({}, None)


def test_the_session_uses_aws_region_over_the_profile(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a profile with a region, and AWS_REGION naming another (as docs/deploy.md says)
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    # When the tool builds its session
    target = deploy.aws_target()
    # Then every client goes to AWS_REGION, and the account is the caller's
    assert (target.region, target.region_source) == ("eu-north-1", "AWS_REGION")
    assert target.session.client("ssm").meta.region_name == "eu-north-1"
    assert target.account == "123456789012"
    assert "eu-north-1 (from AWS_REGION)" in str(target)
    # And without AWS_REGION the profile's region is used
    monkeypatch.delenv("AWS_REGION")
    assert deploy.aws_target().region == "ap-south-1"


# --------------------------------------------------------------------------- confirmation


def test_nothing_happens_without_an_explicit_yes() -> None:
    # Given the deploy's question
    # Then only y/yes goes ahead; anything else, or no answer at all, cancels
    deploy.confirm("Deploy?", assume_yes=False, ask=answers("yes"))
    for reply in ("", "n", "no", "sure"):
        with pytest.raises(DeployError, match="cancelled: nothing was changed"):
            deploy.confirm("Deploy?", assume_yes=False, ask=answers(reply))

    def closed(prompt: str) -> str:
        raise EOFError

    with pytest.raises(DeployError, match="re-run with --yes"):
        deploy.confirm("Deploy?", assume_yes=False, ask=closed)
    # And --yes does not ask at all
    deploy.confirm("Deploy?", assume_yes=True, ask=closed)


# --------------------------------------------------------------------------- stack states


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, ("CREATE", None)),
        ("REVIEW_IN_PROGRESS", ("CREATE", None)),
        ("ROLLBACK_COMPLETE", ("CREATE", "delete")),
        ("UPDATE_ROLLBACK_FAILED", ("UPDATE", "continue-rollback")),
        ("UPDATE_COMPLETE", ("UPDATE", None)),
        ("UPDATE_ROLLBACK_COMPLETE", ("UPDATE", None)),
        ("IMPORT_COMPLETE", ("UPDATE", None)),
    ],
)
def test_a_deploy_continues_from_every_state_it_can(
    status: str | None, expected: tuple[str, str | None]
) -> None:
    # Given a stack in this state, When the next step is decided
    step = deploy.next_step("dev", status)
    # Then the deploy goes on, doing first what the state needs
    assert (step.change_set_type, step.before) == expected


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("UPDATE_IN_PROGRESS", "Wait until it ends"),
        ("CREATE_IN_PROGRESS", "Wait until it ends"),
        ("ROLLBACK_FAILED", "Run `make destroy STAGE=dev`"),
        ("DELETE_FAILED", "Run `make destroy STAGE=dev`"),
        ("UPDATE_FAILED", "does not handle"),
    ],
)
def test_other_states_say_exactly_what_to_do(status: str, advice: str) -> None:
    # Given a stack the tool must not touch, Then it names the state and the way out
    with pytest.raises(DeployError, match=f"is {status}") as raised:
        deploy.next_step("dev", status)
    assert advice in str(raised.value)


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given a dev stack that a failed first create left in ROLLBACK_COMPLETE
    client, stubber = cloudformation
    step = deploy.next_step("dev", "ROLLBACK_COMPLETE")
    # Then the tool deletes the empty stack, waits, and creates it again
    expect_no_leftover_change_sets(stubber)
    stubber.add_response("delete_stack", {}, {"StackName": "support-tickets-dev"})
    stubber.add_response(
        "describe_stacks", stack("DELETE_COMPLETE"), {"StackName": "support-tickets-dev"}
    )
    expect_change_set(stubber, "CREATE")
    # When the stack is applied
    deploy.apply_stack(preparation("dev", step, client), {}, URL)


def test_a_stack_in_update_rollback_failed_is_rolled_back_then_updated(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given a stack whose update and rollback both failed (say, expired artifacts)
    client, stubber = cloudformation
    step = deploy.next_step("dev", "UPDATE_ROLLBACK_FAILED")
    # Then the tool continues the rollback, waits for it, and only then updates
    expect_no_leftover_change_sets(stubber)
    stubber.add_response("continue_update_rollback", {}, {"StackName": "support-tickets-dev"})
    stubber.add_response(
        "describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": "support-tickets-dev"}
    )
    expect_change_set(stubber, "UPDATE")
    # When the stack is applied
    deploy.apply_stack(preparation("dev", step, client), {}, URL)


def test_a_rollback_that_fails_again_names_the_resources_to_skip(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given a rollback CloudFormation still cannot finish
    client, stubber = cloudformation
    stubber.add_response("continue_update_rollback", {}, {"StackName": "support-tickets-dev"})
    stubber.add_response(
        "describe_stacks", stack("UPDATE_ROLLBACK_FAILED"), {"StackName": "support-tickets-dev"}
    )
    stubber.add_response(
        "describe_stack_resources",
        {
            "StackResources": [
                {
                    "LogicalResourceId": "APIHandler",
                    "ResourceType": "AWS::Lambda::Function",
                    "Timestamp": NOW,
                    "ResourceStatus": "UPDATE_FAILED",
                    "ResourceStatusReason": "S3 key does not exist",
                },
                {
                    "LogicalResourceId": "TicketsTable",
                    "ResourceType": "AWS::DynamoDB::Table",
                    "Timestamp": NOW,
                    "ResourceStatus": "UPDATE_COMPLETE",
                },
            ]
        },
        {"StackName": "support-tickets-dev"},
    )
    # When the tool continues it, Then it says what failed and the exact command to skip it
    with pytest.raises(DeployError) as raised:
        deploy.continue_rollback(client, "support-tickets-dev", "eu-west-1", delay=0)
    message = str(raised.value)
    assert "APIHandler: S3 key does not exist" in message
    assert (
        "aws cloudformation continue-update-rollback --region eu-west-1 "
        "--stack-name support-tickets-dev --resources-to-skip APIHandler"
    ) in message
    assert "TicketsTable" not in message


# --------------------------------------------------------------------------- change sets


def test_a_leftover_failed_change_set_is_deleted_before_the_next(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given a stack with a FAILED change set an earlier run left, and one someone prepared
    client, stubber = cloudformation
    summaries = [
        {
            "ChangeSetId": "arn:failed",
            "ChangeSetName": "support-tickets-dev-1234",
            "Status": "FAILED",
            "ExecutionStatus": "UNAVAILABLE",
        },
        {
            "ChangeSetId": "arn:review",
            "ChangeSetName": "someones-review",
            "Status": "CREATE_COMPLETE",
            "ExecutionStatus": "AVAILABLE",
        },
    ]
    stubber.add_response(
        "list_change_sets", {"Summaries": summaries}, {"StackName": "support-tickets-dev"}
    )
    # Then only the failed one is deleted, and the update goes ahead
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": "arn:failed"})
    expect_change_set(stubber, "UPDATE")
    # When the stack is applied
    step = deploy.next_step("dev", "UPDATE_COMPLETE")
    deploy.apply_stack(preparation("dev", step, client), {}, URL)


def test_a_change_set_that_fails_is_deleted_and_explained(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given CloudFormation rejecting the change set
    client, stubber = cloudformation
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID})
    failed = {"Status": "FAILED", "StatusReason": "Template format error: bad"}
    stubber.add_response("describe_change_set", failed, {"ChangeSetName": CHANGE_SET_ID})
    stubber.add_response("describe_change_set", failed, {"ChangeSetName": CHANGE_SET_ID})
    # Then it is deleted (so it never blocks a retry) and the reason is the error
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    with pytest.raises(DeployError, match="Template format error: bad"):
        deploy.run_change_set(client, ChangeSet("support-tickets-dev", "UPDATE", URL), delay=0)


def test_a_change_set_without_changes_is_deleted_quietly(
    cloudformation: tuple[Any, Stubber],
) -> None:
    # Given a template identical to the deployed one
    client, stubber = cloudformation
    stubber.add_response("create_change_set", {"Id": CHANGE_SET_ID, "StackId": STACK_ID})
    empty = {
        "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes.",
    }
    stubber.add_response("describe_change_set", empty)
    stubber.add_response("describe_change_set", empty)
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET_ID})
    # When it runs, Then nothing is executed and the tool says so
    changed = deploy.run_change_set(
        client, ChangeSet("support-tickets-dev", "UPDATE", URL), delay=0
    )
    assert changed is False


def test_change_set_names_are_never_reused() -> None:
    # Given two runs of the same deploy in the same second
    names = {deploy.change_set_name("support-tickets-dev") for _ in range(20)}
    # Then each change set has its own name (a failed one can never collide with a retry)
    assert len(names) == 20
    assert all(name.startswith("support-tickets-dev-") and len(name) <= 128 for name in names)


def test_a_failed_update_reports_the_first_causes(cloudformation: tuple[Any, Stubber]) -> None:
    # Given an update that failed and was rolled back
    client, stubber = cloudformation
    events = [
        {
            "StackId": STACK_ID,
            "EventId": str(index),
            "StackName": "support-tickets-dev",
            "Timestamp": NOW,
            "LogicalResourceId": logical_id,
            "ResourceStatus": status,
            **({"ResourceStatusReason": reason} if reason else {}),
        }
        for index, (logical_id, status, reason) in enumerate(
            [  # newest first, as CloudFormation lists them
                ("support-tickets-dev", "UPDATE_ROLLBACK_COMPLETE", None),
                ("SiteDistribution", "UPDATE_FAILED", "Resource update cancelled"),
                ("ApiWebAcl", "UPDATE_FAILED", "WAFLimitsExceededException"),
            ]
        )
    ]
    # (and a failure of last week's deploy, which is not this one's cause)
    events.append(
        {
            **events[2],
            "EventId": "old",
            "Timestamp": datetime(2025, 12, 1, tzinfo=UTC),
            "LogicalResourceId": "TicketsTable",
            "ResourceStatusReason": "old news",
        }
    )
    stubber.add_response("describe_stack_events", {"StackEvents": events})
    stubber.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
    # When the report is written
    change = ChangeSet("support-tickets-dev", "UPDATE")
    text = deploy.failure_report(client, change, STACK_ID, since=datetime(2026, 1, 1, tzinfo=UTC))
    # Then it says the previous version still runs, the root cause first
    assert "rolled back (the previous version still runs)" in text
    assert text.index("ApiWebAcl: WAFLimitsExceededException") < text.index("SiteDistribution")
    # And only this operation's failures are named
    assert "old news" not in text


def test_prod_is_created_unprotected_then_protected(cloudformation: tuple[Any, Stubber]) -> None:
    # Given a first create of prod (its table and pool have deletion protection)
    client, stubber = cloudformation
    step = deploy.next_step("prod", None)
    expect_no_leftover_change_sets(stubber, "support-tickets-prod")
    # Then the create runs without deletion protection, so a failure rolls back cleanly...
    expect_change_set(
        stubber,
        "CREATE",
        stack_name="support-tickets-prod",
        parameters=[{"ParameterKey": "DataDeletionProtection", "ParameterValue": "false"}],
    )
    # ...then a second change set switches it on (the template's default), and the stack
    # gets termination protection
    expect_change_set(stubber, "UPDATE", stack_name="support-tickets-prod")
    stubber.add_response(
        "update_termination_protection",
        {"StackId": STACK_ID},
        {"EnableTerminationProtection": True, "StackName": "support-tickets-prod"},
    )
    # When the stack is applied
    deploy.apply_stack(preparation("prod", step, client, protect_after_create=True), {}, URL)


# --------------------------------------------------------------------------- destroy


def destroy_target(client: Any, s3: Any) -> Target:
    session = FakeSession("eu-west-1", {"cloudformation": client, "s3": s3})
    return Target(session, "eu-west-1", "AWS_REGION", "123456789012", "arn:aws:iam::1:user/a")


def expect_destroy_reads(stubber: Stubber, name: str) -> None:
    stubber.add_response(
        "describe_stacks",
        stack("UPDATE_COMPLETE", EnableTerminationProtection=True),
        {"StackName": name},
    )
    template = {
        "Resources": {
            "TicketsTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "RetainExceptOnCreate",
            },
            "SiteBucket": {"Type": "AWS::S3::Bucket"},
        }
    }
    stubber.add_response(
        "get_template",
        {"TemplateBody": json.dumps(template)},
        {"StackName": name, "TemplateStage": "Processed"},
    )
    stubber.add_response(
        "describe_stack_resources",
        {
            "StackResources": [
                {
                    "LogicalResourceId": "TicketsTable",
                    "PhysicalResourceId": "support-tickets-prod",
                    "ResourceType": "AWS::DynamoDB::Table",
                    "Timestamp": NOW,
                    "ResourceStatus": "UPDATE_COMPLETE",
                }
            ]
        },
        {"StackName": name},
    )


def test_destroying_prod_needs_its_name_typed(
    cloudformation: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the prod stack, with termination protection
    client, stubber = cloudformation
    s3 = boto3.session.Session(region_name="eu-west-1").client("s3")
    monkeypatch.setattr(deploy, "aws_target", lambda: destroy_target(client, s3))
    expect_destroy_reads(stubber, "support-tickets-prod")
    # When the operator answers "yes" (and even passes --yes)
    ask = answers("yes")
    # Then nothing is deleted: only the stack's name goes ahead (Stubber would fail on a
    # delete_stack or update_termination_protection call)
    with pytest.raises(DeployError, match="not deleted: 'yes' is not 'support-tickets-prod'"):
        deploy.destroy("prod", assume_yes=True, ask=ask)
    assert "Type its name to go ahead" in ask.prompts[0]


def test_destroying_prod_lifts_termination_protection_after_the_name(
    cloudformation: tuple[Any, Stubber],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the prod stack, and the operator typing its name
    client, stubber = cloudformation
    s3 = boto3.session.Session(region_name="eu-west-1").client("s3")
    monkeypatch.setattr(deploy, "aws_target", lambda: destroy_target(client, s3))
    name = "support-tickets-prod"
    expect_destroy_reads(stubber, name)
    stubber.add_response("describe_stacks", stack("UPDATE_COMPLETE"), {"StackName": name})
    # Then termination protection is lifted, the stack deleted, and the table named as kept
    stubber.add_response(
        "update_termination_protection",
        {"StackId": STACK_ID},
        {"EnableTerminationProtection": False, "StackName": name},
    )
    stubber.add_response("delete_stack", {}, {"StackName": name})
    stubber.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": name})
    deploy.destroy("prod", ask=answers(name))
    printed = capsys.readouterr().out
    assert "Retained (delete it yourself if you mean to): TicketsTable" in printed
    assert "--import-retained" in printed


# --------------------------------------------------------------------------- artifacts (moto)


def test_an_artifacts_bucket_in_another_region_is_refused(aws: str) -> None:
    # Given the operator's bucket in us-west-2, and a deploy to eu-west-1
    bucket = f"artifacts-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name="us-west-2").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    session = boto3.session.Session(region_name="eu-west-1")
    # When the tool checks it, Then it refuses: Lambda reads code from its own region
    with pytest.raises(
        DeployError, match=f"{bucket} is in us-west-2, but the stack goes to eu-west-1"
    ):
        deploy._ensure_artifacts_bucket(session, bucket)
    # And a bucket in the stack's region is accepted as it is
    assert (
        deploy._ensure_artifacts_bucket(boto3.session.Session(region_name="us-west-2"), bucket)
        == bucket
    )


def test_bucket_region_reads_s3s_legacy_answers() -> None:
    # Given S3's answers for us-east-1 (no constraint) and the old "EU" alias
    s3 = boto3.session.Session(region_name="eu-west-1").client("s3")
    with Stubber(s3) as stubber:
        for location in (None, "EU", "ap-south-1"):
            response = {} if location is None else {"LocationConstraint": location}
            stubber.add_response("get_bucket_location", response, {"Bucket": "b"})
        # Then each is the region name Lambda would compare with
        assert [deploy.bucket_region(s3, "b") for _ in range(3)] == [
            "us-east-1",
            "eu-west-1",
            "ap-south-1",
        ]


# --------------------------------------------------------------------------- keys (moto)


@pytest.mark.parametrize("key", deploy.STAGE_KEYS, ids=lambda key: key.parameter)
def test_each_stage_key_is_created_once_and_never_overwritten(
    aws: str, capsys: pytest.CaptureFixture[str], key: deploy.StageKey
) -> None:
    # Given a stage without its cursor key (or its customer link key)
    ssm = boto3.client("ssm", region_name="eu-west-1")
    name = f"/support-tickets/test-{uuid.uuid4().hex[:8]}/{key.parameter}"
    # When the deploy ensures it, twice
    assert deploy.ensure_key(ssm, name, key.description) is True
    first = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert deploy.ensure_key(ssm, name, key.description) is False
    # Then it is a SecureString of 32 random bytes, unchanged by the second deploy
    again = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert first["Type"] == "SecureString"
    assert len(base64.b64decode(first["Value"])) == 32
    assert again["Value"] == first["Value"] and again["Version"] == first["Version"]
    (described,) = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    assert described["Description"] == key.description
    # And it was never printed
    assert first["Value"] not in capsys.readouterr().out
    # And rotating replaces it with another random key
    deploy.rotate_key(ssm, name)
    rotated = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    assert rotated != first["Value"] and len(base64.b64decode(rotated)) == 32


def test_the_stage_keys_are_the_templates_cursor_and_link_keys() -> None:
    # Given the keys the deploy creates and the parameters each stage's template names
    for stage in deploy.STAGES:
        parameters = deploy.render_merge_template(stage)["Parameters"]
        names = {key.parameter: parameters[key.parameter]["Default"] for key in deploy.STAGE_KEYS}
        # Then they are the cursor key and the customers' link key of that stage
        assert names == {
            "CursorKeyParameterName": f"/support-tickets/{stage}/cursor-key",
            "LinkKeyParameterName": f"/support-tickets/{stage}/link-key",
        }
    # And each has its own rotation command, which warns of what rotating breaks
    commands = {key.parameter: key.rotate_command for key in deploy.STAGE_KEYS}
    assert commands == {
        "CursorKeyParameterName": "rotate-cursor-key",
        "LinkKeyParameterName": "rotate-link-key",
    }
    link = next(k for k in deploy.STAGE_KEYS if k.parameter == "LinkKeyParameterName")
    assert "keep working" in link.rotation_effect and "new link" in link.rotation_effect


def test_the_anthropic_key_is_read_at_a_prompt(aws: str) -> None:
    # Given the key typed at the prompt (never on a command line)
    ssm = boto3.client("ssm", region_name="eu-west-1")
    name = f"/support-tickets/test-{uuid.uuid4().hex[:8]}/anthropic-api-key"
    # When it is stored, twice (the second is a rotation)
    deploy.store_anthropic_key(ssm, name, read_secret=answers("sk-ant-first\n"))
    deploy.store_anthropic_key(ssm, name, read_secret=answers("sk-ant-second"))
    # Then the SecureString holds the latest, trimmed
    stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "sk-ant-second")
    assert deploy.parameter_exists(ssm, name)
    # And an empty answer stores nothing
    with pytest.raises(DeployError, match="no key entered"):
        deploy.store_anthropic_key(ssm, name + "-2", read_secret=answers("  "))
    assert not deploy.parameter_exists(ssm, name + "-2")


def test_an_agent_is_created_with_a_password_typed_at_a_prompt(aws: str) -> None:
    # Given the stage's user pool
    cognito = boto3.client("cognito-idp", region_name="eu-west-1")
    pool_id = cognito.create_user_pool(PoolName="agents", UsernameAttributes=["email"])["UserPool"][
        "Id"
    ]
    email = "alice@example.com"
    # When two different passwords are typed, Then nothing is created
    with pytest.raises(DeployError, match="the two passwords differ"):
        deploy.add_agent(cognito, pool_id, email, answers("Password-one-1", "Password-two-2"))
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []
    # When the same password is typed twice
    created = deploy.add_agent(cognito, pool_id, email, answers("Password-one-1", "Password-one-1"))
    # Then the agent exists, verified, with a permanent password
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert created is True
    assert (attributes["email"], attributes["email_verified"]) == (email, "true")
    assert user["UserStatus"] == "CONFIRMED"
    # And running it again resets the password of the same account
    assert (
        deploy.add_agent(cognito, pool_id, email, answers("Password-3-abc", "Password-3-abc"))
        is False
    )


# --------------------------------------------------------------------------- customer email


def test_the_sender_is_an_address_with_an_optional_name() -> None:
    # Given what an operator may type as MAIL_SENDER
    # Then an address, with or without a display name, gives the From header and the bare
    # address the consumer's role may send from
    plain = deploy.parse_mail_sender(" support@example.com ")
    assert (plain.header, plain.address, plain.domain) == (
        "support@example.com",
        "support@example.com",
        "example.com",
    )
    named = deploy.parse_mail_sender("Support desk <support@mail.example.com>")
    assert named.parameters() == {
        "MailSender": "Support desk <support@mail.example.com>",
        "MailSenderAddress": "support@mail.example.com",
    }
    assert named.domain == "mail.example.com"
    quoted = deploy.parse_mail_sender('"Support, Inc" <help@example.org>')
    assert quoted.header == '"Support, Inc" <help@example.org>'
    # And anything else is refused with the expected form, before AWS is touched: no
    # address, no domain, two addresses, or a line break that would add a header
    for bad in ("", "support", "support@example", "a@b.c, d@e.f", "x@y.z\nBcc: e@f.g", "a b@c.d"):
        with pytest.raises(DeployError, match="is not an email address"):
            deploy.parse_mail_sender(bad)


def test_a_deploy_takes_the_sender_given_else_the_stacks() -> None:
    # Given a stack deployed with a sender, and one never deployed
    deployed = {"MailSender": "Support <support@example.com>", "MailSenderAddress": "x@y.z"}
    # Then a sender given on the command line wins
    given = deploy.resolve_mail_sender("Help <help@example.org>", deployed, "dev")
    assert given.address == "help@example.org"
    # And without one, the stack's own sender is kept (its address derived again)
    kept = deploy.resolve_mail_sender(None, deployed, "dev")
    assert kept.parameters() == {
        "MailSender": "Support <support@example.com>",
        "MailSenderAddress": "support@example.com",
    }
    # And a first deploy without one says exactly what to type
    with pytest.raises(DeployError, match='make deploy STAGE=prod MAIL_SENDER="Support'):
        deploy.resolve_mail_sender(None, {}, "prod")


def test_the_confirmation_limit_is_given_else_the_stacks_else_the_default() -> None:
    # Given the limit typed, the stack's, or neither
    assert deploy.resolve_confirmations(5, {"ConfirmationsPerAddressPerHour": "7"}) == "5"
    assert deploy.resolve_confirmations(None, {"ConfirmationsPerAddressPerHour": "7"}) == "7"
    # Then without either the template's default applies (no override)
    assert deploy.resolve_confirmations(None, {}) is None
    template = deploy.render_merge_template("dev")["Parameters"]["ConfirmationsPerAddressPerHour"]
    assert template["Default"] == 3
    # And a limit the Lambda's settings would refuse is refused here first
    low, high = deploy.CONFIRMATIONS_RANGE
    assert (low, high) == (template["MinValue"], template["MaxValue"])
    for bad in (0, 1001):
        with pytest.raises(DeployError, match="from 1 to 1000"):
            deploy.resolve_confirmations(bad, {})


@pytest.fixture
def sesv2() -> Iterator[tuple[Any, Stubber]]:
    """sesv2 with scripted answers (moto has no GetAccount)."""
    client = boto3.session.Session(region_name="eu-west-1").client("sesv2")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def identity(verified: bool, status: str = "SUCCESS") -> dict[str, Any]:
    return {"VerifiedForSendingStatus": verified, "VerificationStatus": status}


def account(production: bool, sending: bool = True) -> dict[str, Any]:
    return {"ProductionAccessEnabled": production, "SendingEnabled": sending}


SENDER = deploy.MailSender("Support <support@example.com>", "support@example.com")


def test_a_verified_sender_in_production_is_fine(sesv2: tuple[Any, Stubber]) -> None:
    # Given the sender's address verified in an account out of the sandbox
    client, stubber = sesv2
    stubber.add_response(
        "get_email_identity", identity(True), {"EmailIdentity": "support@example.com"}
    )
    stubber.add_response("get_account", account(True), {})
    # When the deploy checks SES, Then it only says who the emails come from
    assert deploy.check_mail_sender(client, SENDER, "eu-west-1") == [
        "customer emails come from Support <support@example.com> (SES identity support@example.com)"
    ]


def test_a_verified_domain_sends_for_the_address(sesv2: tuple[Any, Stubber]) -> None:
    # Given only the sender's domain verified (DKIM), in the sandbox
    client, stubber = sesv2
    stubber.add_client_error(
        "get_email_identity", "NotFoundException", expected_params={"EmailIdentity": SENDER.address}
    )
    stubber.add_response("get_email_identity", identity(True), {"EmailIdentity": "example.com"})
    stubber.add_response("get_account", account(False), {})
    # When the deploy checks SES
    notes = deploy.check_mail_sender(client, SENDER, "eu-west-1")
    # Then the domain is the identity, and the sandbox is a clear warning with the way out
    assert notes[0].endswith("(SES identity example.com)")
    assert notes[1].startswith("WARNING: this account is in the SES sandbox in eu-west-1")
    assert "customers get none" in notes[1] and "Request production access" in notes[1]


def test_an_unknown_or_pending_sender_is_a_warning(sesv2: tuple[Any, Stubber]) -> None:
    # Given a sender SES has never heard of, then one whose verification is pending
    client, stubber = sesv2
    for name in ("support@example.com", "example.com"):
        stubber.add_client_error(
            "get_email_identity", "NotFoundException", expected_params={"EmailIdentity": name}
        )
    stubber.add_response("get_account", account(True, sending=False), {})
    stubber.add_response(
        "get_email_identity", identity(False, "PENDING"), {"EmailIdentity": SENDER.address}
    )
    stubber.add_response("get_account", account(True), {})
    # When the deploy checks SES each time
    unknown = deploy.check_mail_sender(client, SENDER, "eu-west-1")
    pending = deploy.check_mail_sender(client, SENDER, "eu-west-1")
    # Then each says what is wrong and that customers get no email until it is fixed
    assert unknown[0].startswith(
        "WARNING: neither support@example.com nor example.com is an SES identity in eu-west-1"
    )
    assert unknown[1].startswith("WARNING: SES sending is paused for this account")
    assert pending == [
        "WARNING: the SES identity support@example.com is PENDING in eu-west-1: no email "
        "reaches customers until it is verified (an address: the link SES emailed it; a "
        "domain: its DKIM records; docs/deploy.md, Customer emails)"
    ]


def test_a_check_that_cannot_read_ses_says_so(sesv2: tuple[Any, Stubber]) -> None:
    # Given a deploying identity that may not read SES (or SES absent from the region)
    client, stubber = sesv2
    stubber.add_client_error("get_email_identity", "AccessDeniedException")
    # When the deploy checks, Then it warns instead of failing (the check is advisory)
    (note,) = deploy.check_mail_sender(client, SENDER, "eu-west-1")
    assert note.startswith("WARNING: could not check SES in eu-west-1 (AccessDeniedException)")


def prepared_session(region: str, cloudformation: Any, sesv2: Any) -> FakeSession:
    """moto for everything but CloudFormation and SES (scripted)."""
    moto = boto3.session.Session(region_name=region)
    clients = {name: moto.client(name) for name in ("dynamodb", "cognito-idp", "apigateway", "ssm")}
    return FakeSession(region, {**clients, "cloudformation": cloudformation, "sesv2": sesv2})


def test_a_first_deploy_without_a_sender_stops_before_any_change(
    aws: str, cloudformation: tuple[Any, Stubber], sesv2: tuple[Any, Stubber]
) -> None:
    # Given a stage never deployed, and no MAIL_SENDER
    client, stubber = cloudformation
    stubber.add_client_error(
        "describe_stacks", "ValidationError", "Stack with id support-tickets-dev does not exist"
    )
    session = prepared_session("eu-west-3", client, sesv2[0])
    target = Target(session, "eu-west-3", "AWS_REGION", "123456789012", "arn:aws:iam::1:user/a")
    template = deploy.render_merge_template("dev")
    # When the deploy prepares, Then it stops with the command to type (only reads so far)
    with pytest.raises(DeployError, match="first deploy of a stage needs the sender"):
        deploy.prepare_deploy("dev", template, target, DeployOptions())


def test_an_update_keeps_the_stacks_sender_and_limit_and_checks_ses(
    aws: str, cloudformation: tuple[Any, Stubber], sesv2: tuple[Any, Stubber]
) -> None:
    # Given dev deployed with a sender and a limit of 5, in a region with no stage keys yet
    client, stubber = cloudformation
    deployed = [
        {"ParameterKey": "MailSender", "ParameterValue": "Support <support@example.com>"},
        {"ParameterKey": "MailSenderAddress", "ParameterValue": "support@example.com"},
        {"ParameterKey": "ConfirmationsPerAddressPerHour", "ParameterValue": "5"},
        {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"},
    ]
    stubber.add_response(
        "describe_stacks",
        stack("UPDATE_COMPLETE", Parameters=deployed),
        {"StackName": "support-tickets-dev"},
    )
    ses_client, ses = sesv2
    ses.add_response("get_email_identity", identity(True), {"EmailIdentity": SENDER.address})
    ses.add_response("get_account", account(False), {})
    region = "eu-south-1"
    session = prepared_session(region, client, ses_client)
    target = Target(session, region, "AWS_REGION", "123456789012", "arn:aws:iam::1:user/a")
    options = DeployOptions(reserved_concurrency=False)
    # When the deploy prepares, without MAIL_SENDER
    prepared = deploy.prepare_deploy("dev", deploy.render_merge_template("dev"), target, options)
    # Then it updates with the stack's sender and limit (a parameter left out would fall
    # back to the template's default), and no reserved concurrency, as asked
    assert prepared.step.change_set_type == "UPDATE"
    assert prepared.parameters == {
        "ApiReservedConcurrency": "0",
        "AuthorizerReservedConcurrency": "0",
        "StreamReservedConcurrency": "0",
        "MailSender": "Support <support@example.com>",
        "MailSenderAddress": "support@example.com",
        "ConfirmationsPerAddressPerHour": "5",
        "AlarmEmail": "ops@example.com",
    }
    # And it will create both stage keys, and says so, with the sandbox warning
    assert [name for name, _ in prepared.keys] == [
        "/support-tickets/dev/cursor-key",
        "/support-tickets/dev/link-key",
    ]
    shown = "\n".join(prepared.notes)
    assert "create /support-tickets/dev/link-key (random, SecureString)" in shown
    assert "at most 5 confirmation emails per address per hour" in shown
    assert "alarms notify the topic support-tickets-dev-alarms and email ops@example.com" in shown
    assert "WARNING: this account is in the SES sandbox in eu-south-1" in shown


def test_the_command_line_passes_the_sender_and_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given `make deploy STAGE=prod MAIL_SENDER=... CONFIRMATIONS_PER_ADDRESS_PER_HOUR=5`
    seen: list[tuple[str, DeployOptions]] = []
    monkeypatch.setattr(deploy, "deploy", lambda stage, options: seen.append((stage, options)))
    argv = ["deploy", "--stage", "prod", "--mail-sender", "Support <s@example.com>"]
    # When the tool runs (with ALARM_EMAIL=ops@example.com too)
    extra = ["--confirmations-per-hour", "5", "--alarm-email", "ops@example.com"]
    assert deploy.main([*argv, *extra]) == 0
    # Then the deploy gets all three
    ((stage, options),) = seen
    assert stage == "prod"
    assert (options.mail_sender, options.confirmations_per_hour) == ("Support <s@example.com>", 5)
    assert options.alarm_email == "ops@example.com"


def test_the_alarm_email_is_given_else_the_stacks_else_nobody() -> None:
    # Given an address on this deploy, none, or the stack's
    deployed = {"AlarmEmail": "old@example.com"}
    # Then a given address wins, `none` removes the stack's, and nothing given keeps it
    assert deploy.resolve_alarm_email("ops@example.com", deployed) == "ops@example.com"
    assert deploy.resolve_alarm_email(" ops@example.com ", {}) == "ops@example.com"
    assert deploy.resolve_alarm_email("none", deployed) == ""
    assert deploy.resolve_alarm_email(None, deployed) == "old@example.com"
    # And a first deploy without one leaves the template's default (nobody)
    assert deploy.resolve_alarm_email(None, {}) is None
    assert deploy.render_merge_template("dev")["Parameters"]["AlarmEmail"]["Default"] == ""
    # And anything but one bare address is refused before any change
    for bad in ("ops", "Ops <ops@example.com>", "a@b.co,c@d.co", "a@b.co\nBcc: c@d.co"):
        with pytest.raises(DeployError, match="ALARM_EMAIL"):
            deploy.resolve_alarm_email(bad, {})


# --------------------------------------------------------------------------- retained data


def test_retained_prod_data_blocks_a_new_stack_until_adopted_or_deleted(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the table and pool a destroyed prod stack kept, in a region of their own
    region = "ca-central-1"
    session = boto3.session.Session(region_name=region)
    session.client("dynamodb").create_table(
        TableName="support-tickets-prod",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    pool_id = session.client("cognito-idp").create_user_pool(
        PoolName="support-tickets-prod-agents"
    )["UserPool"]["Id"]
    target = Target(session, region, "AWS_REGION", "123456789012", "arn:aws:iam::1:user/a")
    # When they are looked for
    retained = deploy.find_retained(session, "prod")
    # Then both are found
    assert retained == Retained("support-tickets-prod", (pool_id,))
    # And a deploy without --import-retained stops, offering both ways out
    step = deploy.next_step("prod", None)
    with pytest.raises(DeployError) as raised:
        deploy._check_retained("prod", target, step, DeployOptions())
    message = str(raised.value)
    assert "add --import-retained" in message
    assert (
        f"aws dynamodb delete-table --region {region} --table-name support-tickets-prod" in message
    )
    assert f"--user-pool-id {pool_id}" in message
    # And with it, they are what the new stack adopts
    adopted = deploy._check_retained("prod", target, step, DeployOptions(import_retained=True))
    assert adopted == retained


def test_the_import_template_adopts_only_the_retained_resources(tmp_path: Path) -> None:
    # Given prod's template and a retained table and pool
    template = deploy.render_merge_template("prod")
    retained = Retained("support-tickets-prod", ("eu-west-1_abc",))
    # When the import is prepared
    body = deploy.import_template(template, retained)
    to_import = deploy.resources_to_import(retained)
    # Then it holds just those two, with the Retain policy an import requires, and no
    # transform (nothing to create during an import)
    assert set(body["Resources"]) == {"TicketsTable", "AgentUserPool"}
    assert all(r["DeletionPolicy"] == "Retain" for r in body["Resources"].values())
    assert "Transform" not in body
    assert [(r["LogicalResourceId"], r["ResourceIdentifier"]) for r in to_import] == [
        ("TicketsTable", {"TableName": "support-tickets-prod"}),
        ("AgentUserPool", {"UserPoolId": "eu-west-1_abc"}),
    ]
    # And the import needs no parameter value: the mail sender's parameters (no default,
    # used by neither resource) are left out, every other one has its default
    assert not set(deploy.MAIL_PARAMETERS) & set(body["Parameters"])
    assert set(deploy.MAIL_PARAMETERS) <= set(template["Parameters"])
    assert all("Default" in spec for spec in body["Parameters"].values())
    # And it is a valid template on its own (no reference to a resource it lacks)
    path = tmp_path / "import.json"
    path.write_text(json.dumps(body))
    errors, _ = deploy.lint_template(path)
    assert errors == []


# --------------------------------------------------------------------------- account set-up


def test_reserved_concurrency_the_account_cannot_hold_is_refused() -> None:
    # Given a new account's quota (10 executions) and an established one (1,000)
    new = {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}}
    big = {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}}
    # Then reserving 60 is refused on the first, with both ways out
    problem = deploy.concurrency_problem(new, 60, 0)
    assert problem is not None
    assert "'Concurrent executions' quota" in problem and "--no-reserved-concurrency" in problem
    # And fine on the second, and when the stack already holds its reservation
    assert deploy.concurrency_problem(big, 60, 0) is None
    held = {"AccountLimit": {"ConcurrentExecutions": 160, "UnreservedConcurrentExecutions": 100}}
    assert deploy.concurrency_problem(held, 60, 60) is None
    assert deploy.concurrency_problem(held, 70, 60) is not None


def test_a_region_without_an_api_gateway_logging_role_is_noticed(aws: str) -> None:
    # Given a region whose API Gateway has no CloudWatch role (a new account's state)
    session = boto3.session.Session(region_name="sa-east-1")
    # Then the tool notices (and will offer to set one before the stack needs it)
    assert deploy.apigateway_logging_role(session) is None


def test_the_logging_role_is_created_with_aws_policy_and_set(tmp_path: Path) -> None:
    # Given no role yet (moto's IAM lacks AWS managed policies, hence Stubber)
    iam = boto3.session.Session(region_name="eu-west-1").client("iam")
    apigateway = boto3.session.Session(region_name="eu-west-1").client("apigateway")
    arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs"
    role = {"Path": "/", "RoleName": "r", "RoleId": "i" * 16, "Arn": arn, "CreateDate": NOW}
    with Stubber(iam) as iam_stub, Stubber(apigateway) as api_stub:
        iam_stub.add_client_error("get_role", "NoSuchEntity", "no role")
        iam_stub.add_response(
            "create_role",
            {"Role": role},
            {
                "RoleName": "apigateway-cloudwatch-logs",
                "AssumeRolePolicyDocument": ANY,
                "Description": ANY,
            },
        )
        # Then AWS's own logging policy is attached, and the role becomes the region's
        policy = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        iam_stub.add_response(
            "attach_role_policy",
            {},
            {"RoleName": "apigateway-cloudwatch-logs", "PolicyArn": policy},
        )
        patch = [{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
        api_stub.add_response(
            "update_account", {"cloudwatchRoleArn": arn}, {"patchOperations": patch}
        )
        session = FakeSession("eu-west-1", {"iam": iam, "apigateway": apigateway})
        # When the tool sets it up
        assert deploy.ensure_apigateway_logging_role(session, sleep=lambda _: None) == arn
        iam_stub.assert_no_pending_responses()
        api_stub.assert_no_pending_responses()


def test_a_new_logging_role_is_retried_until_api_gateway_accepts_it() -> None:
    # Given IAM's eventual consistency: API Gateway refuses a role created a moment ago
    iam = boto3.session.Session(region_name="eu-west-1").client("iam")
    apigateway = boto3.session.Session(region_name="eu-west-1").client("apigateway")
    arn = "arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs"
    with Stubber(iam) as iam_stub, Stubber(apigateway) as api_stub:
        iam_stub.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/",
                    "RoleName": "r",
                    "RoleId": "i" * 16,
                    "Arn": arn,
                    "CreateDate": NOW,
                }
            },
        )
        iam_stub.add_response("attach_role_policy", {})
        api_stub.add_client_error("update_account", "BadRequestException", "role not ready")
        api_stub.add_response("update_account", {"cloudwatchRoleArn": arn})
        session = FakeSession("eu-west-1", {"iam": iam, "apigateway": apigateway})
        slept: list[float] = []
        # When the tool sets it
        assert deploy.ensure_apigateway_logging_role(session, sleep=slept.append) == arn
        # Then it waited and tried again
        assert slept == [5]


def test_client_errors_name_their_code() -> None:
    # Given a botocore error, Then the tool reads its code (used to tell cases apart)
    error = ClientError({"Error": {"Code": "ParameterAlreadyExists"}}, "PutParameter")
    assert deploy._error_code(error) == "ParameterAlreadyExists"
    assert deploy._error_code(ValueError("no response")) == ""


def test_a_deploy_changes_nothing_before_the_operator_says_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a planned stage and a prepared deploy (what the tool read from the account)
    template = tmp_path / "template.json"
    template.write_text(json.dumps({"Parameters": {}, "Resources": {}}))
    built = deploy.Build(
        "dev", tmp_path, template, tmp_path / "d.zip", deploy.PackageSize(1, 1, 0), 1
    )
    monkeypatch.setattr(deploy, "plan", lambda stage: built)
    step = deploy.next_step("dev", None)
    prepared = preparation("dev", step, client=None, notes=[step.description])
    monkeypatch.setattr(deploy, "aws_target", lambda: prepared.target)
    monkeypatch.setattr(deploy, "prepare_deploy", lambda *args: prepared)

    def no_writes(*args: Any) -> Any:
        raise AssertionError("wrote to AWS before the operator agreed")

    for writer in ("_ensure_artifacts_bucket", "ensure_key", "apply_stack"):
        monkeypatch.setattr(deploy, writer, no_writes)
    # When the operator answers no
    ask = answers("n")
    with pytest.raises(DeployError, match="cancelled"):
        deploy.deploy("dev", ask=ask)
    # Then they were told the account, identity, region and each step, and nothing was written
    shown = capsys.readouterr().out
    assert (
        "account 123456789012 as arn:aws:iam::1:user/a, region eu-west-1 (from AWS_REGION)" in shown
    )
    assert "create the stack support-tickets-dev" in shown
    assert ask.prompts == [
        "Deploy support-tickets-dev to account 123456789012 in eu-west-1? [y/N] "
    ]
