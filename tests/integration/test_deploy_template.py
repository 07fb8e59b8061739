"""The deployable template and Lambda package of every stage, checked without AWS.

``chalice package`` runs once per stage per test session (the ``builds`` fixture in
tests/integration/conftest.py, shared with the checkov audit); every test reads those
artifacts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.data.models import (
    ALL_MODELS,
    LIST_INDEX_SPECS,
    SORT_ATTRIBUTE,
    TTL_ATTRIBUTE,
    TicketModel,
)
from local_stack.stream_poller import wanted_by_consumer
from tools.deploy import (
    _RESERVED_PARAMETERS,
    DEV_ONLY,
    LAMBDA_RUNTIME,
    MAIL_PARAMETERS,
    MAX_PACKAGE_BYTES,
    SITE_ORIGIN_HEADER_VALUE,
    STAGES,
    Build,
    DeployError,
    alarm_problems,
    bind_preflight_origin,
    lint_template,
    package_problems,
    render_merge_template,
    runtime_problems,
    sam_translate,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
SITE_ORIGIN = {"Fn::Sub": "https://${SiteDistribution.DomainName}"}
_ESM = "AWS::Lambda::EventSourceMapping"
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
pytestmark = pytest.mark.slow


@pytest.fixture(params=STAGES)
def stage(request: pytest.FixtureRequest) -> str:
    stage_name: str = request.param
    return stage_name


@pytest.fixture
def built(builds: dict[str, Build], stage: str) -> Build:
    return builds[stage]


@pytest.fixture
def template(built: Build) -> dict[str, Any]:
    return built.template()


@pytest.fixture
def resources(template: dict[str, Any]) -> dict[str, Any]:
    resources_by_id: dict[str, Any] = template["Resources"]
    return resources_by_id


def statements(resources: dict[str, Any], role: str = "ApiHandlerRole") -> Iterator[dict[str, Any]]:
    for policy in resources[role]["Properties"]["Policies"]:
        yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def sub_text(value: Any) -> str:
    """The text of a resource/ARN value: plain strings, ``Fn::Sub`` or ``Fn::GetAtt``."""
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected resource value {value!r}")


# --- validity -----------------------------------------------------------------------------


def test_cfn_lint_reports_no_errors(built: Build) -> None:
    # Given the built template of a stage
    # When cfn-lint validates it
    errors, warnings = lint_template(built.template_path)
    # Then there is no error (warnings are printed by `make plan`)
    assert errors == [], errors
    assert isinstance(warnings, list)


def test_cfn_lint_catches_a_broken_template(builds: dict[str, Build], tmp_path: Path) -> None:
    # Given the template with an impossible billing mode (proves the check can fail)
    broken = builds["dev"].template()
    broken["Resources"]["TicketsTable"]["Properties"]["BillingMode"] = "FREE"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    # When it is linted
    errors, _ = lint_template(path)
    # Then cfn-lint reports it
    assert any("FREE" in line for line in errors)


def test_sam_transform_gives_plain_cloudformation(template: dict[str, Any]) -> None:
    # Given the SAM template
    # When aws-sam-translator transforms it
    output = sam_translate(template)
    # Then no serverless resource is left and the API stage carries throttling and tracing
    types = {resource["Type"] for resource in output["Resources"].values()}
    assert not any(t.startswith("AWS::Serverless::") for t in types)
    assert {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Stage", "AWS::Lambda::Function"} <= types
    # And both functions (API and authorizer) run the uploaded package
    functions = {
        name: resource["Properties"]
        for name, resource in output["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert set(functions) == {"APIHandler", "AgentAuthorizer", "Stream"}
    for function in functions.values():
        assert function["Code"] == {"S3Bucket": "artifacts-bucket", "S3Key": "deployment.zip"}
    # And the stream consumer's event source is a plain event source mapping on the table's
    # stream, and SAM added no policy to the consumer's role
    (mapping,) = [r for r in output["Resources"].values() if r["Type"] == _ESM]
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    assert mapping["Properties"]["FunctionName"] == {"Ref": "Stream"}
    assert (
        output["Resources"]["StreamRole"]["Properties"]["Policies"]
        == (template["Resources"]["StreamRole"]["Properties"]["Policies"])
    )


def test_sam_creates_exactly_one_stage_behind_the_web_acl(template: dict[str, Any]) -> None:
    # Given the plain CloudFormation the SAM transform makes of the template
    output = sam_translate(template)["Resources"]
    # Then there is exactly one stage, `api` (issue 13: SAM used to add a second stage
    # named "Stage" through the deployment, without WAF, throttling or tracing)
    stages = {name: r for name, r in output.items() if r["Type"] == "AWS::ApiGateway::Stage"}
    assert list(stages) == ["RestAPIapiStage"]
    deployments = [r for r in output.values() if r["Type"] == "AWS::ApiGateway::Deployment"]
    assert len(deployments) == 1
    assert "StageName" not in deployments[0]["Properties"], "the deployment makes a stage"
    stage = stages["RestAPIapiStage"]["Properties"]
    assert stage["StageName"] == "api"
    assert stage["TracingEnabled"] is True
    # And it is throttled
    (throttle,) = stage["MethodSettings"]
    assert throttle["ResourcePath"] == "/*" and throttle["HttpMethod"] == "*"
    assert throttle["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert throttle["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    # And per-method metrics are off (billed as custom metrics; docs/deploy.md): the
    # API-level ones, which the 5XX alarm reads, come without them
    assert throttle["MetricsEnabled"] is False
    # And associated with the web ACL
    association = output["ApiWebAclAssociation"]["Properties"]
    assert association["ResourceArn"]["Fn::Sub"].endswith(
        "/restapis/${RestAPI}/stages/${RestAPIapiStage}"
    )
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    # And it writes access logs (JSON, one line per request) to its own log group
    access = stage["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert {"ip", "status", "resource", "waf", "authorizerError"} <= set(fields)
    # And only that stage may invoke the API function
    permission = output["APIHandlerInvokePermission"]["Properties"]
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${RestAPI}/api/*")


def test_stage_parameters_have_sane_defaults(template: dict[str, Any], stage: str) -> None:
    # Given the parameters of the built template
    parameters = template["Parameters"]
    # Then every parameter has a default (the built template deploys as is) for this stage,
    # but the mail sender, which the first deploy must be given (tools/deploy.py)
    no_default = {name for name, spec in parameters.items() if "Default" not in spec}
    assert no_default == set(MAIL_PARAMETERS) == {"MailSender", "MailSenderAddress"}
    assert parameters["Stage"]["Default"] == stage
    assert int(parameters["ApiThrottleBurstLimit"]["Default"]) >= int(
        parameters["ApiThrottleRateLimit"]["Default"]
    )
    assert int(parameters["WafRateLimitPerIp"]["Default"]) >= 10


# --- the table ------------------------------------------------------------------------


def _key_schema(items: list[Any]) -> dict[str, str]:
    return {item["KeyType"]: item["AttributeName"] for item in items}


def table_drift(table: dict[str, Any]) -> list[str]:
    """How the template's table differs from what the PynamoDB models declare."""
    schema = TicketModel._get_schema()
    problems = []
    if _key_schema(table["KeySchema"]) != _key_schema(schema["key_schema"]):
        problems.append("key schema")
    declared = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    expected = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}
    if declared != expected:
        problems.append(f"attribute definitions: {sorted(set(declared) ^ set(expected))}")
    template_indexes = {
        index["IndexName"]: (_key_schema(index["KeySchema"]), index["Projection"])
        for index in table.get("GlobalSecondaryIndexes", [])
    }
    model_indexes = {
        index["index_name"]: (_key_schema(index["key_schema"]), index["projection"])
        for index in schema["global_secondary_indexes"]
    }
    if template_indexes != model_indexes:
        differ = {
            name
            for name in set(template_indexes) | set(model_indexes)
            if template_indexes.get(name) != model_indexes.get(name)
        }
        problems.append(f"indexes: {sorted(differ)}")
    if schema.get("local_secondary_indexes") or table.get("LocalSecondaryIndexes"):
        problems.append("local secondary indexes")
    # The stream the consumer reads carries what the model declares (old and new images).
    view = getattr(TicketModel.Meta, "stream_view_type", None)
    if table.get("StreamSpecification") != {"StreamViewType": view}:
        problems.append("stream")
    if table["TimeToLiveSpecification"] != {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}:
        problems.append("time to live")
    return problems


def test_table_matches_the_pynamodb_models(resources: dict[str, Any]) -> None:
    # Given the table in the template and the schema PynamoDB derives from the models
    table = resources["TicketsTable"]["Properties"]
    # Then keys, attribute types, the eleven list indexes (keys and projection), the
    # stream's view type and the TTL attribute all agree
    assert table_drift(table) == []
    assert len(table["GlobalSecondaryIndexes"]) == len(LIST_INDEX_SPECS) == 11
    assert TicketModel.Meta.stream_view_type == "NEW_AND_OLD_IMAGES"


def test_the_drift_check_catches_every_kind_of_difference(resources: dict[str, Any]) -> None:
    # Given copies of the table each changed in one way (proves the check can fail)
    def changed(change: Any) -> list[str]:
        table = json.loads(json.dumps(resources["TicketsTable"]["Properties"]))
        change(table)
        return table_drift(table)

    def drop_index(table: dict[str, Any]) -> None:
        table["GlobalSecondaryIndexes"] = [
            index
            for index in table["GlobalSecondaryIndexes"]
            if index["IndexName"] != "by_assignee"
        ]

    def keys_only(table: dict[str, Any]) -> None:
        table["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}

    def new_images_only(table: dict[str, Any]) -> None:
        table["StreamSpecification"]["StreamViewType"] = "NEW_IMAGE"

    def no_stream(table: dict[str, Any]) -> None:
        del table["StreamSpecification"]

    def extra_attribute(table: dict[str, Any]) -> None:
        table["AttributeDefinitions"].append({"AttributeName": "lk_x", "AttributeType": "S"})

    # Then each is named
    assert changed(drop_index) == ["indexes: ['by_assignee']"]
    assert changed(keys_only) == ["indexes: ['by_created']"]
    assert changed(new_images_only) == changed(no_stream) == ["stream"]
    assert changed(extra_attribute) == ["attribute definitions: ['lk_x']"]


def test_every_list_index_the_planner_reads_is_in_the_template(
    resources: dict[str, Any],
) -> None:
    # Given the catalogue the list planner picks indexes from (chalicelib/data/models.py)
    indexes = {
        index["IndexName"]: index
        for index in resources["TicketsTable"]["Properties"]["GlobalSecondaryIndexes"]
    }
    # Then the template has exactly those indexes, each partitioned by the attribute the
    # repository writes, sorted by creation, and projecting every attribute
    assert set(indexes) == set(LIST_INDEX_SPECS)
    for name, (attribute, _dimensions) in LIST_INDEX_SPECS.items():
        assert _key_schema(indexes[name]["KeySchema"]) == {
            "HASH": attribute,
            "RANGE": SORT_ATTRIBUTE,
        }, name
        assert indexes[name]["Projection"] == {"ProjectionType": "ALL"}, name
        assert attribute.startswith("lk_"), name
    # And every model stored in the table shares its key schema
    for model in ALL_MODELS:
        assert _key_schema(model._get_schema()["key_schema"]) == {"HASH": "pk", "RANGE": "sk"}


def test_table_settings(resources: dict[str, Any], stage: str, template: dict[str, Any]) -> None:
    # Given the table resource
    table = resources["TicketsTable"]
    props = table["Properties"]
    # Then it is on-demand, encrypted, backed up continuously and expires items by TTL
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["TableName"] == {"Fn::Sub": "support-tickets-${Stage}"}
    protection = template["Parameters"]["DataDeletionProtection"]["Default"]
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["ProtectData", True, False]}
    assert template["Conditions"]["ProtectData"] == {
        "Fn::Equals": [{"Ref": "DataDeletionProtection"}, "true"]
    }
    # And prod keeps its data when the stack goes, except when the create that made it
    # fails (then the next deploy would trip over it: issue 13); dev keeps nothing
    if stage == "prod":
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == (
            "RetainExceptOnCreate",
            "Retain",
        )
        assert protection == "true"
    else:
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Delete", "Delete")
        assert protection == "false"


# --- the Lambda -------------------------------------------------------------------------


def test_lambda_environment_names_its_table_parameter_and_site(
    resources: dict[str, Any], template: dict[str, Any], stage: str
) -> None:
    # Given the function's environment
    function = resources["APIHandler"]["Properties"]
    env = function["Environment"]["Variables"]
    # Then it names the stack's table, the stage's SSM parameter and the site origin
    assert env["TICKETS_TABLE_NAME"] == {"Ref": "TicketsTable"}
    assert env["ANTHROPIC_API_KEY_PARAMETER"] == {"Ref": "AnthropicKeyParameterName"}
    parameter = template["Parameters"]["AnthropicKeyParameterName"]["Default"]
    assert parameter == f"/support-tickets/{stage}/anthropic-api-key"
    # And the stage's cursor signing key (created by tools/deploy.py) and the daily Claude
    # call budget (issue 14)
    assert env["CURSOR_KEY_PARAMETER"] == {"Ref": "CursorKeyParameterName"}
    cursor_key = template["Parameters"]["CursorKeyParameterName"]["Default"]
    assert cursor_key == f"/support-tickets/{stage}/cursor-key"
    assert env["CLAUDE_DAILY_CALL_BUDGET"] == {"Ref": "ClaudeDailyCallBudget"}
    budget = template["Parameters"]["ClaudeDailyCallBudget"]
    assert (budget["Type"], int(budget["Default"]), budget["MinValue"]) == ("Number", 2000, 0)
    assert "CURSOR_KEY" not in env
    # And the customers' link key (a create answers with the private link) and the site the
    # link points to; no mail setting (only the stream consumer sends email)
    assert env["LINK_KEY_PARAMETER"] == {"Ref": "LinkKeyParameterName"}
    link_key = template["Parameters"]["LinkKeyParameterName"]["Default"]
    assert link_key == f"/support-tickets/{stage}/link-key"
    assert env["SITE_URL"] == SITE_ORIGIN
    assert "LINK_KEY" not in env and "MAIL_SENDER" not in env
    assert env["CORS_ALLOWED_ORIGINS"] == SITE_ORIGIN
    assert env["STAGE"] == {"Ref": "Stage"}
    assert env["POWERTOOLS_TRACE_DISABLED"] == "false"
    assert "ANTHROPIC_API_KEY" not in env
    # And the Chalice config agrees, for anyone running `chalice local --stage <stage>`
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    stage_env = config["stages"][stage]["environment_variables"]
    assert stage_env["ANTHROPIC_API_KEY_PARAMETER"] == parameter
    assert stage_env["TICKETS_TABLE_NAME"] == f"support-tickets-{stage}"
    # And it logs to a log group with a retention, traced by X-Ray
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "ApiHandlerLogGroup"}}
    assert function["Tracing"] == "Active"
    log_group = resources["ApiHandlerLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert int(template["Parameters"]["LogRetentionDays"]["Default"]) in {14, 90}
    assert function["Runtime"] == "python3.11"
    assert function["CodeUri"] == "./deployment.zip"
    assert function["MemorySize"] == (1024 if stage == "prod" else 512)


def test_functions_run_the_python_the_tests_ran_on(template: dict[str, Any]) -> None:
    # Given the built template (Chalice names the runtime after the packaging interpreter)
    # Then every function runs the pinned runtime, which is the interpreter running this
    assert runtime_problems(template) == []
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" == LAMBDA_RUNTIME
    # And a function on another runtime is refused by the plan's checks
    other = json.loads(json.dumps(template))
    other["Resources"]["AgentAuthorizer"]["Properties"]["Runtime"] = "python3.12"
    (problem,) = runtime_problems(other)
    assert problem.startswith("AgentAuthorizer runs 'python3.12', not 'python3.11'")


def test_reserved_concurrency_caps_every_function(
    resources: dict[str, Any], template: dict[str, Any], stage: str
) -> None:
    # Given the functions and the stage's parameters
    parameters = template["Parameters"]
    # (the deploy checks the account's quota for exactly these)
    assert _RESERVED_PARAMETERS == {
        "APIHandler": "ApiReservedConcurrency",
        "AgentAuthorizer": "AuthorizerReservedConcurrency",
        "Stream": "StreamReservedConcurrency",
    }
    assert set(_RESERVED_PARAMETERS) == {
        name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
    }
    for logical_id, parameter in _RESERVED_PARAMETERS.items():
        reserved = resources[logical_id]["Properties"]["ReservedConcurrentExecutions"]
        # Then each reserves (and so is capped at) its parameter, unless it is 0 (an
        # account whose quota cannot hold a reservation: --no-reserved-concurrency)
        condition, value, otherwise = reserved["Fn::If"]
        assert value == {"Ref": parameter} and otherwise == {"Ref": "AWS::NoValue"}
        assert template["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]
        }
        assert int(parameters[parameter]["Default"]) > 0
    # And the API's cap bounds Claude calls in flight more tightly on dev than prod
    expected = {"dev": (10, 5, 5), "prod": (50, 10, 10)}[stage]
    assert (
        int(parameters["ApiReservedConcurrency"]["Default"]),
        int(parameters["AuthorizerReservedConcurrency"]["Default"]),
        int(parameters["StreamReservedConcurrency"]["Default"]),
    ) == expected


ROLES = ("ApiHandlerRole", "AgentAuthorizerRole", "StreamRole")


def test_iam_grants_no_wildcard_action_or_open_resource(resources: dict[str, Any]) -> None:
    # Given every statement of every function's role
    for role in ROLES:
        found = list(statements(resources, role))
        assert found, role
        for statement in found:
            actions = as_list(statement["Action"])
            sources = [sub_text(resource) for resource in as_list(statement["Resource"])]
            # Then each allows, names its actions (no wildcard) and has a Sid
            assert statement["Effect"] == "Allow" and statement["Sid"], (role, statement)
            assert not any("*" in action for action in actions), (role, statement)
            # And no ARN leaves region or account open, or names a partition
            for text in sources:
                assert "arn:aws:" not in text, "use ${AWS::Partition}"
                assert ":*:" not in text and "::*" not in text, (role, text)
            # And only X-Ray, which has no resource-level permissions, names "*"
            services = {action.split(":")[0] for action in actions}
            if "*" in sources:
                assert services == {"xray"} and sources == ["*"], (role, statement)


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _parameter(name: str) -> dict[str, str]:
    return _sub(PARAMETER_ARN + "${" + name + "}")


def _secure_decrypt(*names: str) -> dict[str, Any]:
    """Any key of the account, but only through SSM and only for these parameters."""
    return {
        "Sid": "SecureParameterDecrypt",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": _sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"),
        "Condition": {
            "StringEquals": {
                "kms:ViaService": _sub("ssm.${AWS::Region}.${AWS::URLSuffix}"),
                "kms:EncryptionContext:PARAMETER_ARN": [_parameter(name) for name in names],
            }
        },
    }


_TRACING = {
    "Sid": "Tracing",
    "Effect": "Allow",
    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    "Resource": "*",
}
_POOL = {"Fn::GetAtt": ["AgentUserPool", "Arn"]}


def test_the_api_role_is_exactly_what_the_routes_need(resources: dict[str, Any]) -> None:
    # Given the API function's role (tests/integration/test_deploy_iam_actions.py proves
    # the routes use every action and need no other)
    found = list(statements(resources, "ApiHandlerRole"))
    # Then it holds exactly these statements: the table and its indexes; the agents'
    # directory; the three SSM parameters the API reads, one per statement; and its logs
    assert found == [
        {
            "Sid": "TicketTable",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ],
            "Resource": [
                {"Fn::GetAtt": ["TicketsTable", "Arn"]},
                _sub("${TicketsTable.Arn}/index/*"),
            ],
        },
        {
            "Sid": "AgentDirectory",
            "Effect": "Allow",
            "Action": "cognito-idp:ListUsers",
            "Resource": _POOL,
        },
        {
            "Sid": "AnthropicKeyParameter",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": _parameter("AnthropicKeyParameterName"),
        },
        {
            "Sid": "CursorKeyParameter",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": _parameter("CursorKeyParameterName"),
        },
        {
            "Sid": "LinkKeyParameter",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": _parameter("LinkKeyParameterName"),
        },
        _secure_decrypt(
            "AnthropicKeyParameterName", "CursorKeyParameterName", "LinkKeyParameterName"
        ),
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": ["ApiHandlerLogGroup", "Arn"]},
        },
        _TRACING,
    ]
    # And nothing of the mailer's (SES) or of the stream's
    assert "ses:" not in json.dumps(found) and "/stream/" not in json.dumps(found)


def test_the_stream_consumers_role_is_exactly_what_it_needs(resources: dict[str, Any]) -> None:
    # Given the consumer's own role
    function = resources["Stream"]["Properties"]
    found = list(statements(resources, "StreamRole"))
    assert function["Role"] == {"Fn::GetAtt": ["StreamRole", "Arn"]}
    # Then it holds exactly: what Lambda needs to poll the table's stream; the table itself
    # (no index: the consumer reads by key); sending from the configured address only,
    # through its SES identity (the address, or its domain); the directory (replies name
    # their agent); the link key; the on-failure queue (Lambda writes it with this role);
    # its logs and X-Ray
    assert found == [
        {
            "Sid": "ReadTableStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": _sub("${TicketsTable.Arn}/stream/*"),
        },
        {
            "Sid": "TicketTable",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ],
            "Resource": {"Fn::GetAtt": ["TicketsTable", "Arn"]},
        },
        {
            "Sid": "SendCustomerEmail",
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": [
                _sub(
                    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                    ":identity/${MailSenderAddress}"
                ),
                {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                        ":identity/${Domain}",
                        {
                            "Domain": {
                                "Fn::Select": [
                                    1,
                                    {"Fn::Split": ["@", {"Ref": "MailSenderAddress"}]},
                                ]
                            }
                        },
                    ]
                },
            ],
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "MailSenderAddress"}}},
        },
        {
            "Sid": "AgentDirectory",
            "Effect": "Allow",
            "Action": "cognito-idp:ListUsers",
            "Resource": _POOL,
        },
        {
            "Sid": "LinkKeyParameter",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": _parameter("LinkKeyParameterName"),
        },
        _secure_decrypt("LinkKeyParameterName"),
        {
            "Sid": "FailedBatches",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]},
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": ["StreamLogGroup", "Arn"]},
        },
        _TRACING,
    ]
    # And none of the API's secrets (the Anthropic and cursor keys)
    assert "AnthropicKey" not in json.dumps(found) and "CursorKey" not in json.dumps(found)


# What .chalice/policy-<stage>.json holds: Chalice needs the file (autogen_policy is off)
# and copies it into every role it makes; infra/template.yaml replaces every copy.
POLICY_PLACEHOLDER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReplacedByInfraTemplate", "Effect": "Deny", "Action": "*", "Resource": "*"}
    ],
}


def test_chalices_policy_files_grant_nothing() -> None:
    # Given Chalice's configuration and the policy file each stage names
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    for stage_name, stage_config in config["stages"].items():
        name = stage_config["iam_policy_file"]
        assert name == f"policy-{stage_name}.json"
        policy = json.loads((PROJECT_DIR / ".chalice" / name).read_text())
        # Then the file denies everything: it cannot drift from what the functions use,
        # nor be taken for their grants (those are in infra/template.yaml), and a stray
        # `chalice deploy` would give functions that can do nothing, not stale rights
        assert policy == POLICY_PLACEHOLDER, name


def test_the_merge_template_replaces_chalices_policy(resources: dict[str, Any], stage: str) -> None:
    # Given the roles Chalice generated, each from a copy of .chalice/policy-<stage>.json
    for role in ROLES:
        # When the merge template is applied
        policies = resources[role]["Properties"]["Policies"]
        # Then the built role carries exactly the template's policy, not the file's
        expected = render_merge_template(stage)["Resources"][role]["Properties"]
        assert policies == expected["Policies"], role
        assert "ReplacedByInfraTemplate" not in json.dumps(policies), role
        assert not any(s["Effect"] == "Deny" for s in statements(resources, role)), role
    # And there is no other role (SAM would add one to a function without a role)
    roles = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert roles == set(ROLES)


# --- the stream consumer -----------------------------------------------------------------


@pytest.fixture
def mapping(resources: dict[str, Any]) -> dict[str, Any]:
    """The consumer's DynamoDB event source, as SAM reads it."""
    event: dict[str, Any] = resources["Stream"]["Properties"]["Events"]["StreamDynamodbEventSource"]
    assert event["Type"] == "DynamoDB"
    properties: dict[str, Any] = event["Properties"]
    return properties


def test_the_consumer_reads_the_tables_real_stream_with_retries_and_a_destination(
    mapping: dict[str, Any],
) -> None:
    # Given the event source of app.py's `on_dynamodb_record(name="stream")`
    # Then it reads this stack's table's stream (app.py names only a placeholder), from the
    # oldest record still kept, up to 100 records or 1 s at a time
    assert mapping["Stream"] == {"Fn::GetAtt": ["TicketsTable", "StreamArn"]}
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 1)
    # And the handler reports failed records, which are tried 3 times in all: the mailer
    # marks an email "not delivered" on its third failed attempt
    from chalicelib.notifications.notifier import MAX_ATTEMPTS

    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["MaximumRetryAttempts"] + 1 == MAX_ATTEMPTS == 3
    # And a failing batch is split to isolate its bad record, a record older than an hour
    # is given up, and what is given up is recorded in the encrypted queue
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["DestinationConfig"] == {
        "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": ["StreamFailureQueue", "Arn"]}}
    }
    # And nothing else is set (ParallelizationFactor 1 keeps a ticket's records in order)
    assert set(mapping) == {
        "Stream",
        "StartingPosition",
        "BatchSize",
        "MaximumBatchingWindowInSeconds",
        "FunctionResponseTypes",
        "MaximumRetryAttempts",
        "BisectBatchOnFunctionError",
        "MaximumRecordAgeInSeconds",
        "DestinationConfig",
        "FilterCriteria",
    }


# What one record may cost the consumer at most, besides the waits below: reading the
# ticket and its thread, up to 400 postings (25 per BatchWriteItem) and one SES call.
_SECONDS_PER_RECORD = 1.0


def test_the_consumers_timeout_covers_a_whole_batch_and_the_undo_window(
    resources: dict[str, Any], mapping: dict[str, Any]
) -> None:
    # Given the consumer, its event source and the mailer's waits: the resolved email
    # waits out the undo window (each wait counts from its own change, so a batch's waits
    # add up to at most one window), and a record meeting another invocation's live claim
    # on an email waits that lease out once
    from chalicelib.notifications.notifier import _LEASE_SECONDS
    from chalicelib.settings import Settings

    timeout = resources["Stream"]["Properties"]["Timeout"]
    undo_window = Settings.from_env({}).resolved_email_delay_seconds
    assert undo_window == 10
    # Then a full batch fits in the timeout, with the waits, at a second per record
    worst_case = undo_window + (_LEASE_SECONDS + 1) + mapping["BatchSize"] * _SECONDS_PER_RECORD
    assert worst_case < timeout == 180
    # And the API's 25 s (Chalice's lambda_timeout) is not what the consumer gets
    assert resources["APIHandler"]["Properties"]["Timeout"] == 25
    # And a batch that times out is split and retried, not retried whole forever: the
    # timeout fits many times into the hour a record may wait before it is given up
    assert mapping["BisectBatchOnFunctionError"] is True
    assert (mapping["MaximumRetryAttempts"] + 1) * timeout < mapping["MaximumRecordAgeInSeconds"]


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, for what the filter uses: nested keys, exact strings and
    ``prefix``; every key must match, any value of a list may."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _matches(rule, value[key]) for key, rule in pattern.items()
        )
    return any(
        value.startswith(rule["prefix"]) if isinstance(rule, dict) else value == rule
        for rule in pattern
    )


def _record(pk: str, sk: str) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": sk}}}}


# One key of every item the table holds (chalicelib/data/models.py), and some near misses.
TABLE_KEYS = (
    ("TICKET#abc", "TICKET"),
    ("TICKET#abc", "MSG#2026-01-02T03:04:05.000000Z#m1"),
    ("TICKET#abc", "HISTORY#00000001"),
    ("TICKET#abc", "NOTIFY#confirmation#abc"),
    ("TICKET#abc", "INDEX"),
    ("TICKET#abc", "TICKETS"),
    ("TICKET#abc", "MSG"),
    ("IX#refund", "2026-01-02T03:04:05.000000Z#abc"),
    ("NUMBER#1042", "NUMBER"),
    ("SEQUENCE", "TICKET_NUMBER"),
    ("STATS", "SHARD#03"),
    ("STATS", "M#202601#03"),
    ("STATS", "USAGE#claude#2026-01-02"),
    ("MAILRATE#0123abcd", "2026010203"),
    ("IDEMPOTENCY#create-ticket", "0123abcd"),
    ("CLASSIFY#0123abcd", "CLASSIFY"),
    ("TICKET", "TICKET"),
    ("ticket#abc", "TICKET"),
)


def test_the_filter_passes_exactly_what_the_local_poller_delivers(
    mapping: dict[str, Any],
) -> None:
    # Given the event filter and the local stack's copy of it (local_stack/stream_poller.py)
    (only,) = mapping["FilterCriteria"]["Filters"]
    pattern = json.loads(only["Pattern"])
    # Then it names the keys with DynamoDB filtering's prefix syntax
    assert pattern == {
        "dynamodb": {
            "Keys": {
                "pk": {"S": [{"prefix": "TICKET#"}]},
                "sk": {"S": ["TICKET", {"prefix": "MSG#"}]},
            }
        }
    }
    # And for every kind of item in the table it decides as the local poller does:
    # tickets and messages invoke the consumer, nothing else does
    passed = set()
    for pk, sk in TABLE_KEYS:
        record = _record(pk, sk)
        assert _matches(pattern, record) == wanted_by_consumer(record), (pk, sk)
        if _matches(pattern, record):
            passed.add((pk, sk))
    assert passed == {
        ("TICKET#abc", "TICKET"),
        ("TICKET#abc", "MSG#2026-01-02T03:04:05.000000Z#m1"),
    }


def test_the_consumer_function_is_configured_like_the_api(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the consumer function Chalice made of app.py's handler
    function = resources["Stream"]["Properties"]
    env = function["Environment"]["Variables"]
    api = resources["APIHandler"]["Properties"]
    # Then it runs that handler from the same package, traced, on the same runtime
    assert function["Handler"] == "app.on_table_change"
    assert function["CodeUri"] == api["CodeUri"]
    assert function["Tracing"] == "Active" and function["Runtime"] == api["Runtime"]
    # And it has what the indexer and the mailer read, no more: the table, the link key
    # (it re-derives each ticket's link for the email), the site the link opens, the
    # sender, the per-address limit and the agents' pool (a reply names its agent)
    assert env == {
        "POWERTOOLS_SERVICE_NAME": "support-tickets",
        "POWERTOOLS_METRICS_NAMESPACE": "SupportTickets",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "STAGE": {"Ref": "Stage"},
        "TICKETS_TABLE_NAME": {"Ref": "TicketsTable"},
        # Chalice's stage variable (a name only): its role may not read that parameter
        "ANTHROPIC_API_KEY_PARAMETER": template["Parameters"]["AnthropicKeyParameterName"][
            "Default"
        ],
        "LINK_KEY_PARAMETER": {"Ref": "LinkKeyParameterName"},
        "SITE_URL": SITE_ORIGIN,
        "MAIL_SENDER": {"Ref": "MailSender"},
        "CONFIRMATIONS_PER_ADDRESS_PER_HOUR": {"Ref": "ConfirmationsPerAddressPerHour"},
        "COGNITO_USER_POOL_ID": {"Ref": "AgentUserPool"},
    }
    # And the same table and link key as the API (links the API issues, the mailer sends)
    for name in ("TICKETS_TABLE_NAME", "LINK_KEY_PARAMETER", "SITE_URL", "STAGE"):
        assert env[name] == api["Environment"]["Variables"][name], name
    # And it has 512 MB on every stage (Chalice would give it prod's 1,024 MB)
    assert function["MemorySize"] == 512
    # And it logs to its own log group with the stage's retention
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "StreamLogGroup"}}
    log_group = resources["StreamLogGroup"]["Properties"]
    assert log_group == {
        "LogGroupName": {"Fn::Sub": "/aws/lambda/support-tickets-${Stage}-stream"},
        "RetentionInDays": {"Ref": "LogRetentionDays"},
    }


def test_given_up_batches_land_in_an_encrypted_queue_kept_14_days(
    resources: dict[str, Any],
) -> None:
    # Given the on-failure queue and its policy
    queue = resources["StreamFailureQueue"]
    (statement,) = resources["StreamFailureQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    # Then it is encrypted at rest and keeps messages the longest SQS allows (14 days)
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # And it refuses plain HTTP; only the consumer's role may send to it (its IAM policy,
    # which Lambda uses to write the destination), and nothing else grants access
    assert resources["StreamFailureQueuePolicy"]["Properties"]["Queues"] == [
        {"Ref": "StreamFailureQueue"}
    ]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    granted = [
        s
        for role in ROLES
        for s in statements(resources, role)
        if "StreamFailureQueue" in json.dumps(s["Resource"])
    ]
    assert [(s["Sid"], s["Action"]) for s in granted] == [("FailedBatches", "sqs:SendMessage")]


def _alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: r["Properties"]
        for name, r in resources.items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def _by_function(logical_id: str) -> list[dict[str, Any]]:
    return [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]


# Alarm -> (namespace, metric, dimensions, statistic, threshold, what missing data means)
EXPECTED_ALARMS: dict[str, tuple[str, str, list[dict[str, Any]], str, float, str]] = {
    # The consumer falling behind (over 5 minutes), a batch failing as a whole, throttled,
    # and any record given up (a message in the queue)
    "StreamIteratorAgeAlarm": (
        "AWS/Lambda",
        "IteratorAge",
        _by_function("Stream"),
        "Maximum",
        300000,
        "notBreaching",
    ),
    "StreamErrorsAlarm": ("AWS/Lambda", "Errors", _by_function("Stream"), "Sum", 0, "notBreaching"),
    "StreamThrottlesAlarm": (
        "AWS/Lambda",
        "Throttles",
        _by_function("Stream"),
        "Sum",
        0,
        "notBreaching",
    ),
    "StreamFailuresAlarm": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["StreamFailureQueue", "QueueName"]}}],
        "Maximum",
        0,
        "notBreaching",
    ),
    # Errors and throttles of the other two functions
    "ApiErrorsAlarm": (
        "AWS/Lambda",
        "Errors",
        _by_function("APIHandler"),
        "Sum",
        0,
        "notBreaching",
    ),
    "ApiThrottlesAlarm": (
        "AWS/Lambda",
        "Throttles",
        _by_function("APIHandler"),
        "Sum",
        0,
        "notBreaching",
    ),
    "AuthorizerErrorsAlarm": (
        "AWS/Lambda",
        "Errors",
        _by_function("AgentAuthorizer"),
        "Sum",
        0,
        "notBreaching",
    ),
    "AuthorizerThrottlesAlarm": (
        "AWS/Lambda",
        "Throttles",
        _by_function("AgentAuthorizer"),
        "Sum",
        0,
        "notBreaching",
    ),
    # The API stage answering 5XX (API Gateway's own and the app's)
    "Api5xxAlarm": (
        "AWS/ApiGateway",
        "5XXError",
        [
            {"Name": "ApiName", "Value": {"Fn::Sub": "support-tickets-${Stage}"}},
            {"Name": "Stage", "Value": "api"},
        ],
        "Sum",
        5,
        "notBreaching",
    ),
    # The account's SES bounce rate, before SES reviews the account (5%): a rate, so no
    # data keeps the last state
    "SesBounceRateAlarm": ("AWS/SES", "Reputation.BounceRate", [], "Maximum", 0.04, "ignore"),
}


def test_alarms_watch_every_function_the_api_stage_and_ses(resources: dict[str, Any]) -> None:
    # Given the alarms of the stack
    alarms = _alarms(resources)
    # Then they are exactly the expected ones, each watching its metric
    assert set(alarms) == set(EXPECTED_ALARMS)
    for name, (
        namespace,
        metric,
        dimensions,
        statistic,
        threshold,
        missing,
    ) in EXPECTED_ALARMS.items():
        alarm = alarms[name]
        assert (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric), name
        assert alarm.get("Dimensions", []) == dimensions, name
        assert (alarm["Statistic"], alarm["Threshold"]) == (statistic, threshold), name
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name
        # And what missing data means is explicit: no trouble for counts (a quiet function
        # reports nothing), the last state for a rate
        assert alarm["TreatMissingData"] == missing, name
        # And each explains itself, named after its stage
        assert len(alarm["AlarmDescription"]) > 60, name
        assert alarm["AlarmName"]["Fn::Sub"].startswith("support-tickets-${Stage}-"), name
    # And every Lambda function has its errors and its throttles watched
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    for metric in ("Errors", "Throttles"):
        watched = {
            a["Dimensions"][0]["Value"]["Ref"]
            for a in alarms.values()
            if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric
        }
        assert watched == functions == {"APIHandler", "AgentAuthorizer", "Stream"}, metric
    # And "behind" means five minutes in a row of a maximum over 5 minutes
    age = alarms["StreamIteratorAgeAlarm"]
    assert age["Period"] * age["EvaluationPeriods"] == 300


def test_the_5xx_alarm_watches_this_stacks_api(template: dict[str, Any]) -> None:
    # Given the plain CloudFormation (API Gateway keys its metrics by the API's name)
    output = sam_translate(template)["Resources"]
    (api,) = [r for r in output.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    dimensions = {d["Name"]: d["Value"] for d in output["Api5xxAlarm"]["Properties"]["Dimensions"]}
    # Then the alarm names the API by its stage's own name (Chalice would name every
    # stage's API "support-tickets", and dev's errors would count on prod's alarm)
    assert api["Properties"]["Name"] == dimensions["ApiName"]
    assert dimensions["ApiName"] == {"Fn::Sub": "support-tickets-${Stage}"}
    # And the only stage, api
    stages = [r for r in output.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["StageName"] for s in stages] == [dimensions["Stage"]]


def test_every_alarm_notifies_the_stacks_topic(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the alarms and the topic the stack creates
    topic = resources["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["TopicName"] == {"Fn::Sub": "support-tickets-${Stage}-alarms"}
    # Then every alarm tells the topic when it goes off and when it clears
    for name, alarm in _alarms(resources).items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], name
    # And `make plan` refuses an alarm that would not (the check can fail)
    assert alarm_problems(template) == []
    broken = json.loads(json.dumps(template))
    del broken["Resources"]["ApiErrorsAlarm"]["Properties"]["OKActions"]
    del broken["Resources"]["Api5xxAlarm"]["Properties"]["TreatMissingData"]
    broken["Resources"]["StreamErrorsAlarm"]["Properties"]["AlarmActions"] = []
    assert alarm_problems(broken) == [
        "StreamErrorsAlarm: AlarmActions does not notify AlarmTopic",
        "ApiErrorsAlarm: OKActions does not notify AlarmTopic",
        "Api5xxAlarm: no TreatMissingData",
    ]
    # And only this stack's alarms may publish to the topic (CloudWatch, this account,
    # alarms named after this stage)
    (statement,) = resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert resources["AlarmTopicPolicy"]["Properties"]["Topics"] == [{"Ref": "AlarmTopic"}]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "AlarmTopic"}
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    source = statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert source.endswith(":alarm:support-tickets-${Stage}-*")
    # And the topic is where to subscribe: an output
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}


def test_an_alarm_email_is_optional(resources: dict[str, Any], template: dict[str, Any]) -> None:
    # Given the optional address and the subscription it makes
    parameter = template["Parameters"]["AlarmEmail"]
    subscription = resources["AlarmEmailSubscription"]
    # Then no address subscribes nobody (the default), and an address gets the alarms
    assert parameter["Default"] == ""
    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    # And CloudFormation accepts one bare address or nothing, as tools/deploy.py does
    accepts = re.compile(parameter["AllowedPattern"])
    for good in ("", "ops@example.com"):
        assert accepts.fullmatch(good), good
    for bad in ("ops", "Ops <ops@example.com>", "a@b.co, c@d.co"):
        assert not accepts.fullmatch(bad), bad


def test_the_sender_and_the_limit_are_parameters(template: dict[str, Any]) -> None:
    # Given the template's parameters for customer email
    parameters = template["Parameters"]
    sender = parameters["MailSender"]
    address = parameters["MailSenderAddress"]
    limit = parameters["ConfirmationsPerAddressPerHour"]
    # Then the sender has no default (the first deploy must name it), and CloudFormation
    # refuses values tools/deploy.py would have refused
    assert "Default" not in sender and "Default" not in address
    accepts = re.compile(sender["AllowedPattern"])
    for good in ("support@example.com", "Support <support@example.com>", '"A, B" <a@b.co>'):
        assert accepts.fullmatch(good), good
    for bad in ("support", "support@example", "Support <support@example.com>\r\nBcc: x@y.z"):
        assert not accepts.fullmatch(bad), bad
    bare = re.compile(address["AllowedPattern"])
    assert bare.fullmatch("support@example.com")
    assert not bare.fullmatch("Support <support@example.com>")
    # And the per-address limit defaults to 3 within the range the Lambda accepts
    assert (limit["Type"], limit["Default"], limit["MinValue"], limit["MaxValue"]) == (
        "Number",
        3,
        1,
        1000,
    )


# --- the agents' authorizer -------------------------------------------------------------


def test_authorizer_function_gets_the_pool_its_own_log_group_and_a_short_timeout(
    resources: dict[str, Any],
) -> None:
    # Given the function Chalice made of the built-in authorizer
    function = resources["AgentAuthorizer"]["Properties"]
    env = function["Environment"]["Variables"]
    api_env = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    # Then it runs chalicelib's authorizer from the same package, with its own role
    assert function["Handler"] == "chalicelib.api.authorizer.agent_authorizer"
    assert function["CodeUri"] == resources["APIHandler"]["Properties"]["CodeUri"]
    assert function["Role"] == {"Fn::GetAtt": ["AgentAuthorizerRole", "Arn"]}
    # And it knows the pool, the app client and the issuer (else it denies every token),
    # exactly as the API handler does
    for name in ("COGNITO_USER_POOL_ID", "COGNITO_APP_CLIENT_ID", "COGNITO_ISSUER"):
        assert env[name] == api_env[name], name
    assert env["COGNITO_USER_POOL_ID"] == {"Ref": "AgentUserPool"}
    assert "COGNITO_JWKS_URL" not in env  # derived from the issuer, as Cognito publishes it
    # And it logs to its own log group with the stage's retention, traced by X-Ray
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "AgentAuthorizerLogGroup"}}
    log_group = resources["AgentAuthorizerLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert log_group["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/support-tickets-${Stage}-authorizer"
    }
    assert function["Tracing"] == "Active"
    # And it gives up well before API Gateway's 29 s (the JWKS fetch times out after 5 s)
    assert function["Timeout"] <= 10
    # And it gets the memory a signature check needs, not the stage's (1,024 MB on prod)
    assert function["MemorySize"] == 256


def test_authorizer_role_may_only_write_its_logs_and_traces(resources: dict[str, Any]) -> None:
    # Given the authorizer's role (Chalice copies the API's policy file into it)
    found = list(statements(resources, "AgentAuthorizerRole"))
    # Then it holds no data access at all: its own log group, and X-Ray
    by_sid = {statement["Sid"]: statement for statement in found}
    assert set(by_sid) == {"Logs", "Tracing"}
    assert by_sid["Logs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert by_sid["Logs"]["Resource"] == {"Fn::GetAtt": ["AgentAuthorizerLogGroup", "Arn"]}
    assert by_sid["Tracing"]["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert all(statement["Effect"] == "Allow" for statement in found)
    assert "dynamodb" not in json.dumps(found) and "ssm" not in json.dumps(found)
    # And only API Gateway, for this API, may invoke it
    permission = resources["AgentAuthorizerInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["AgentAuthorizer", "Arn"]}
    assert "${RestAPIId}/*" in permission["SourceArn"]["Fn::Sub"][0]


def test_agent_routes_are_guarded_and_only_the_public_ones_are_open(
    template: dict[str, Any],
) -> None:
    # Given the app's route table and the swagger Chalice generated from it
    from app import app

    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    paths = body["paths"]
    # Then API Gateway runs the token authorizer (from the Authorization header, answers
    # cached 30 s) on exactly the routes the app guards
    definition = body["securityDefinitions"]["agent_authorizer"]
    assert definition["name"] == "Authorization" and definition["in"] == "header"
    authorizer = definition["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "token"
    assert "${AgentAuthorizer.Arn}" in authorizer["authorizerUri"]["Fn::Sub"]
    assert authorizer["authorizerResultTtlInSeconds"] == 30
    public: set[tuple[str, str]] = set()
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            security = paths[path][method.lower()].get("security")
            if entry.authorizer is not None:
                assert security == [{"agent_authorizer": []}], (method, path)
            else:
                assert security is None, (method, path)
                if not entry.view_name.startswith("not_allowed_"):
                    public.add((method, path))
    # And the only open routes are the customer's form (create, classify), the customer's
    # private page (checked by its secret link, a 404 otherwise) and the API description
    # (the other open methods only answer 405)
    assert public == {
        ("POST", "/tickets"),
        ("POST", "/tickets/classify"),
        ("GET", "/openapi.json"),
        ("GET", "/public/tickets/{ticket_id}"),
        ("POST", "/public/tickets/{ticket_id}/messages"),
    }
    # And every agent route is there
    guarded = {
        (method, path)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
        if entry.authorizer is not None
    }
    assert guarded == {
        ("GET", "/tickets"),
        ("GET", "/tickets/stats"),
        ("POST", "/tickets/bulk"),
        ("GET", "/tickets/by-number/{number}"),
        ("GET", "/tickets/{ticket_id}"),
        ("PATCH", "/tickets/{ticket_id}"),
        ("DELETE", "/tickets/{ticket_id}"),
        ("GET", "/tickets/{ticket_id}/history"),
        ("GET", "/tickets/{ticket_id}/emails"),
        ("POST", "/tickets/{ticket_id}/access-link"),
        ("GET", "/tickets/{ticket_id}/messages"),
        ("POST", "/tickets/{ticket_id}/messages"),
        ("GET", "/agents"),
    }


def test_preflight_lets_the_site_send_a_token_and_an_idempotency_key(
    template: dict[str, Any],
) -> None:
    # Given the CORS preflight answers
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, methods in paths.items():
        parameters = methods["options"]["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"
        ]
        allowed = parameters["method.response.header.Access-Control-Allow-Headers"]
        # Then the browser may send Authorization and Idempotency-Key cross-origin
        headers = {name.lower() for name in allowed.strip("'").split(",")}
        assert {"authorization", "idempotency-key", "content-type", "if-match"} <= headers, path


def test_refused_tokens_are_json_401s_with_cors_like_the_local_gateway(
    template: dict[str, Any],
) -> None:
    # Given API Gateway's answers when the authorizer is not satisfied, and the local
    # gateway's (which the tests and `make run` use)
    from local_stack.api_server import gateway_error

    responses = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"
    ]
    # (Chalice local: no token is a 401, the authorizer's deny a 403)
    expected = {
        "UNAUTHORIZED": gateway_error(401, b"", "GET", "/tickets"),
        "ACCESS_DENIED": gateway_error(403, b'{"Message": "User is not authorized"}', "GET", "/"),
    }
    for name, (status, message) in expected.items():
        response = responses[name]
        # Then both are 401 with the same message as locally, so the site shows sign-in
        assert (response["statusCode"], status) == ("401", 401), name
        body = json.loads(response["responseTemplates"]["application/json"])
        assert body == {"error": message}, name
        # And the browser can read them (CORS for the site), and they are never cached
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == (
            SITE_ORIGIN_HEADER_VALUE
        )
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"
        assert headers["gatewayresponse.header.WWW-Authenticate"].startswith("'Bearer")
    assert expected["UNAUTHORIZED"][1] == (
        "Sign in required: send an agent token as 'Authorization: Bearer <token>'"
    )
    assert expected["ACCESS_DENIED"][1] == "Your session is invalid or has expired: sign in again"


# --- the API ---------------------------------------------------------------------------


def test_every_cors_preflight_answers_the_site_origin(template: dict[str, Any]) -> None:
    # Given the swagger Chalice generated (packaged with a placeholder origin)
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    # Then every path has an OPTIONS mock whose Allow-Origin is the CloudFront domain
    assert paths
    for path, methods in paths.items():
        integration = methods["options"]["x-amazon-apigateway-integration"]
        assert integration["type"] == "mock", path
        parameters = integration["responses"]["default"]["responseParameters"]
        origin = parameters["method.response.header.Access-Control-Allow-Origin"]
        assert origin == SITE_ORIGIN_HEADER_VALUE, path
    # And it is the same origin the Lambda allows
    assert SITE_ORIGIN_HEADER_VALUE["Fn::Sub"].strip("'") == SITE_ORIGIN["Fn::Sub"]


def test_preflight_binding_refuses_an_unexpected_origin(template: dict[str, Any]) -> None:
    # Given a template whose preflight names some other origin
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    first = next(iter(paths.values()))
    response = first["options"]["x-amazon-apigateway-integration"]["responses"]["default"]
    response["responseParameters"]["method.response.header.Access-Control-Allow-Origin"] = (
        "'https://evil.example'"
    )
    # When the binding runs, Then it fails instead of deploying a wrong origin
    with pytest.raises(DeployError, match="unexpected Allow-Origin"):
        bind_preflight_origin(template)


GATEWAY_RESPONSES = {
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "MISSING_AUTHENTICATION_TOKEN": "404",
    "RESOURCE_NOT_FOUND": "404",
    "UNAUTHORIZED": "401",
    "ACCESS_DENIED": "401",
    "AUTHORIZER_FAILURE": "500",
    "THROTTLED": "429",
    "WAF_FILTERED": "429",
    "REQUEST_TOO_LARGE": "413",
    "INTEGRATION_TIMEOUT": "504",
}


def test_gateway_responses_use_the_api_error_shape_with_cors(template: dict[str, Any]) -> None:
    # Given API Gateway's own responses in the swagger
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    for name, status in GATEWAY_RESPONSES.items():
        response = responses[name]
        # Then each has the expected status
        assert response.get("statusCode") == status, name
        # And a JSON body {"error": "..."} (messageString is already a quoted JSON string)
        rendered = response["responseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"Missing Authentication Token"'
        )
        parsed = json.loads(rendered)
        assert set(parsed) == {"error"} and parsed["error"], name
        # And CORS for the site origin, so the browser can read it
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == (
            SITE_ORIGIN_HEADER_VALUE
        ), name
        assert headers["gatewayresponse.header.Vary"] == "'Origin'"
    # And an unknown route is a 404 as on the local server
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["application/json"]
    assert json.loads(missing) == {"error": "No such endpoint"}


def test_gateway_responses_let_the_site_read_retry_after(template: dict[str, Any]) -> None:
    # Given every answer API Gateway gives itself, and the headers the app's own answers
    # expose to the site (the local gateway's errors expose the same list)
    from chalicelib.api.http import EXPOSED_HEADERS

    responses = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"][
        "x-amazon-apigateway-gateway-responses"
    ]
    assert "Retry-After" in EXPOSED_HEADERS
    # Then each exposes exactly those headers, so the browser lets the site read them
    for name, response in responses.items():
        headers = response["responseParameters"]
        exposed = headers.get("gatewayresponse.header.Access-Control-Expose-Headers")
        assert exposed == "'" + ",".join(EXPOSED_HEADERS) + "'", name
    # And the 429s of the stage throttle and of WAF carry a Retry-After to read
    for name, seconds in (("THROTTLED", "'1'"), ("WAF_FILTERED", "'300'")):
        assert responses[name]["statusCode"] == "429", name
        assert responses[name]["responseParameters"]["gatewayresponse.header.Retry-After"] == (
            seconds
        ), name


def test_api_is_regional_behind_a_per_ip_rate_limit(resources: dict[str, Any]) -> None:
    # Given the API and its web ACL
    api = resources["RestAPI"]["Properties"]
    acl = resources["ApiWebAcl"]["Properties"]
    # Then the endpoint is regional, so WAF sees client addresses
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["StageName"] == "api"
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rule, _classify, _everything = acl["Rules"]
    assert rule["Name"] == "public-post-rate-per-ip"
    assert rule["Action"] == {"Block": {}}
    rate = rule["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["Limit"] == {"Ref": "WafRateLimitPerIp"}
    method, path = rate["ScopeDownStatement"]["AndStatement"]["Statements"]
    # And it counts only POSTs to the public routes that write: create, classify, and a
    # customer's message on their private page, with the stage prefix (the execute-api
    # host) or without it (a custom domain's base path mapping)
    assert method["ByteMatchStatement"]["SearchString"] == "POST"
    assert method["ByteMatchStatement"]["PositionalConstraint"] == "EXACTLY"
    pattern = re.compile(path["RegexMatchStatement"]["RegexString"])
    for prefix in ("/api", ""):
        for counted in (
            "/tickets",
            "/tickets/",
            "/tickets/classify",
            "/tickets/classify/",
            "/public/tickets/abcdefghijklmnopqrstuvwx/messages",
            "/public/tickets/abcdefghijklmnopqrstuvwx/messages/",
        ):
            assert pattern.search(prefix + counted), prefix + counted
        for free in (
            "/tickets/abcdefghijklmnopqrstuvwx",
            "/tickets/stats",
            "/ticketsx",
            "/tickets/abcdefghijklmnopqrstuvwx/messages",
            "/public/tickets/abcdefghijklmnopqrstuvwx",
            "/public/tickets/a/b/messages",
        ):
            assert not pattern.search(prefix + free), prefix + free
    for free in ("/api/api/tickets", "/apix/tickets", "/v1/tickets", "tickets"):
        assert not pattern.search(free), free
    association = resources["ApiWebAclAssociation"]["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}


def test_classification_has_its_own_tighter_per_ip_limit(
    resources: dict[str, Any], template: dict[str, Any]
) -> None:
    # Given the web ACL's rules (issue 14: each classification may cost a Claude call)
    general, classify, _everything = resources["ApiWebAcl"]["Properties"]["Rules"]
    # Then a second rule blocks a client IP past its own limit, over the same 5 minutes
    assert classify["Name"] == "classify-rate-per-ip"
    assert classify["Action"] == {"Block": {}}
    assert classify["Priority"] != general["Priority"]
    rate = classify["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["EvaluationWindowSec"] == 300
    assert rate["Limit"] == {"Ref": "WafClassifyRateLimitPerIp"}
    # And that limit is tighter than the general one (30 per 5 minutes by default)
    parameters = template["Parameters"]
    limit = int(parameters["WafClassifyRateLimitPerIp"]["Default"])
    assert 10 <= limit < int(parameters["WafRateLimitPerIp"]["Default"])
    assert limit == 30
    # And it counts POSTs to the classify route only, with or without the trailing slash,
    # with or without the stage prefix
    method, path = rate["ScopeDownStatement"]["AndStatement"]["Statements"]
    assert method["ByteMatchStatement"]["SearchString"] == "POST"
    pattern = re.compile(path["RegexMatchStatement"]["RegexString"])
    for counted in (
        "/api/tickets/classify",
        "/api/tickets/classify/",
        "/tickets/classify",
        "/tickets/classify/",
    ):
        assert pattern.search(counted), counted
    for free in (
        "/api/tickets",
        "/api/tickets/",
        "/api/tickets/classifyx",
        "/tickets",
        "/api/api/tickets/classify",
        "/x/tickets/classify",
    ):
        assert not pattern.search(free), free


def test_every_request_counts_towards_a_looser_per_ip_limit(
    resources: dict[str, Any], template: dict[str, Any], stage: str
) -> None:
    # Given the web ACL's rules
    general, classify, everything = resources["ApiWebAcl"]["Properties"]["Rules"]
    # Then a last rule blocks a client IP past its limit over 5 minutes, whatever it asks
    # for (agents' routes, reads, the customer's page, preflights): no scope-down
    assert everything["Name"] == "all-requests-rate-per-ip"
    assert everything["Action"] == {"Block": {}}
    assert everything["Priority"] > max(general["Priority"], classify["Priority"])
    assert everything["Statement"] == {
        "RateBasedStatement": {
            "AggregateKeyType": "IP",
            "EvaluationWindowSec": 300,
            "Limit": {"Ref": "WafRequestRateLimitPerIp"},
        }
    }
    assert everything["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    # And it is looser than the narrower limits, with room for an office of agents behind
    # one address (1,000 on dev, 3,000 on prod per 5 minutes)
    parameters = template["Parameters"]
    limit = int(parameters["WafRequestRateLimitPerIp"]["Default"])
    assert limit > int(parameters["WafRateLimitPerIp"]["Default"])
    assert limit == {"dev": 1000, "prod": 3000}[stage]
    # And every rule has its own metric
    names = [
        r["VisibilityConfig"]["MetricName"]["Fn::Sub"] for r in (general, classify, everything)
    ]
    assert len(set(names)) == 3


# --- the site -------------------------------------------------------------------------


# Names CloudFormation must make unique per account, whatever the region.
ACCOUNT_GLOBAL_NAMES = {
    "AWS::CloudFront::OriginAccessControl": ("OriginAccessControlConfig", "Name"),
    "AWS::CloudFront::ResponseHeadersPolicy": ("ResponseHeadersPolicyConfig", "Name"),
    "AWS::CloudFront::CachePolicy": ("CachePolicyConfig", "Name"),
    "AWS::CloudFront::OriginRequestPolicy": ("OriginRequestPolicyConfig", "Name"),
    "AWS::CloudFront::Function": ("Name",),
    "AWS::IAM::Role": ("RoleName",),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName",),
    "AWS::S3::Bucket": ("BucketName",),
}


def test_account_global_names_carry_the_region(template: dict[str, Any]) -> None:
    # Given the plain CloudFormation (SAM's roles and stages included)
    output = sam_translate(template)["Resources"]
    named = 0
    for logical_id, resource in output.items():
        path = ACCOUNT_GLOBAL_NAMES.get(resource["Type"])
        if path is None:
            continue
        value: Any = resource.get("Properties", {})
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            continue  # CloudFormation generates a unique name
        named += 1
        # Then every name that is unique per account includes the region, so the same
        # stage deploys in a second region (issue 13)
        assert "${AWS::Region}" in sub_text(value), (logical_id, value)
    # And that covers the origin access control and the response headers policy
    assert named == 2
    oac = output["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["Name"] == {"Fn::Sub": "${AWS::StackName}-${AWS::Region}-site"}


def test_site_bucket_is_private_and_read_only_by_cloudfront(resources: dict[str, Any]) -> None:
    # Given the bucket and its policy
    bucket = resources["SiteBucket"]["Properties"]
    policy = resources["SiteBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    # Then public access is blocked and objects are encrypted
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # And an overwritten or deleted file can be restored for 30 days (versioning)
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    # And plain HTTP is denied, and only this distribution may read objects
    deny, allow = policy
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${SiteDistribution}")


def _csp(policy: str) -> dict[str, str]:
    directives = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives}


def test_distribution_serves_the_bucket_over_https_with_security_headers(
    resources: dict[str, Any],
) -> None:
    # Given the distribution and its response headers policy
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    headers = resources["SiteResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    # Then the bucket is reached through origin access control, HTTPS only
    (origin,) = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert config["DefaultRootObject"] == "index.html"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "SiteResponseHeadersPolicy"}
    # And the security headers are set
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    header_csp = _csp(security["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"])
    assert header_csp["frame-ancestors"] == "'none'"
    # And the page may reach this region's API Gateway and Cognito (the site signs agents
    # in with InitiateAuth from the browser), and nothing else
    assert header_csp["connect-src"].split() == [
        "'self'",
        "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}",
    ]
    assert "${" not in json.dumps({k: v for k, v in header_csp.items() if k != "connect-src"})


def test_header_csp_allows_what_the_sites_meta_csp_allows() -> None:
    # Given the meta CSP in static-site/index.html and the CSP header of the template
    # (browsers enforce both, so a stricter header would silently break the site)
    html = (PROJECT_DIR / "static-site" / "index.html").read_text()
    match = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    if match is None:
        pytest.skip("static-site/index.html has no meta CSP yet")
    meta = _csp(match.group(1))
    merged = render_merge_template("dev")["Resources"]["SiteResponseHeadersPolicy"]
    header_value = merged["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"][
        "ContentSecurityPolicy"
    ]["ContentSecurityPolicy"]["Fn::Sub"]
    header = _csp(header_value)
    # Then every directive but connect-src (origins differ locally) is the same in both
    for directive, value in meta.items():
        if directive != "connect-src":
            assert header.get(directive) == value, directive


def test_outputs(template: dict[str, Any]) -> None:
    # Given the outputs
    outputs = template["Outputs"]
    # Then the deploy step finds the API URL (ending in /api), the site and its bucket
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].endswith("/api")
    assert outputs["SiteUrl"]["Value"] == SITE_ORIGIN
    assert outputs["SiteBucket"]["Value"] == {"Ref": "SiteBucket"}
    assert outputs["DistributionId"]["Value"] == {"Ref": "SiteDistribution"}
    assert outputs["TicketsTableName"]["Value"] == {"Ref": "TicketsTable"}
    # And where to look after a deploy: the consumer's logs, its queue of given-up batches,
    # the sender in use, the link key's name and the alarms' topic
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
    assert outputs["StreamLogGroupName"]["Value"] == {"Ref": "StreamLogGroup"}
    assert outputs["StreamFailureQueueUrl"]["Value"] == {"Ref": "StreamFailureQueue"}
    assert outputs["MailSender"]["Value"] == {"Ref": "MailSender"}
    assert outputs["LinkKeyParameterName"]["Value"] == {"Ref": "LinkKeyParameterName"}


# --- the package ----------------------------------------------------------------------


def test_package_holds_the_app_and_nothing_dev_only(built: Build) -> None:
    # Given the slimmed deployment package
    with zipfile.ZipFile(built.package_path) as archive:
        names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    # Then the app and its runtime dependencies are there
    for needed in ("app.py", "chalicelib", "chalice", "pynamodb", "anthropic", "pydantic_core"):
        assert needed in tops, needed
    assert {"aws_lambda_powertools", "jwt", "cryptography", "aws_xray_sdk"} <= tops
    # And nothing from the dev requirements, nor what the runtime provides
    assert not tops & set(DEV_ONLY)
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & tops
    assert not any("__pycache__" in name for name in names)
    assert package_problems(built.package_path) == []
    # And it is well under the 25 MB budget (and 250 MB unzipped Lambda limit)
    size = built.size
    assert size.deployed_bytes == built.package_path.stat().st_size < MAX_PACKAGE_BYTES
    with zipfile.ZipFile(built.package_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    assert unzipped < 250 * 1024 * 1024
    print(
        f"\n{built.stage}: Lambda package {size.chalice_bytes / 1e6:.1f} MB -> "
        f"{size.deployed_bytes / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped"
    )


def test_package_check_catches_dev_only_content(tmp_path: Path) -> None:
    # Given a package with moto in it and no app (proves the check can fail)
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("moto/__init__.py", "")
        archive.writestr("botocore/__init__.py", "")
        archive.writestr("chalice/cli/__init__.py", "")
    # When it is checked
    problems = package_problems(path)
    # Then each defect is named
    assert "dev-only package in the Lambda package: moto" in problems
    assert "runtime-provided package still bundled: botocore" in problems
    assert "chalice's CLI is in the Lambda package" in problems
    assert "missing from the Lambda package: app.py" in problems


RUNTIME_IMPORT_CHECK = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app, anthropic, jwt, pydantic, cryptography.hazmat.primitives.asymmetric.rsa
import aws_lambda_powertools.utilities.parameters, aws_xray_sdk.core, pynamodb.models
import botocore
assert botocore.__file__.startswith(sys.argv[2]), botocore.__file__
assert app.app.app_name == "support-tickets"
# The authorizer as its Lambda loads it (module.attribute from the template's Handler),
# here without the COGNITO_* variables: it must deny, not fail open.
import importlib
module, _, attribute = sys.argv[3].rpartition(".")
handler = getattr(importlib.import_module(module), attribute)
event = {
    "type": "TOKEN",
    "authorizationToken": "Bearer not-a-token",
    "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/tickets",
}
policy = handler(event, None)["policyDocument"]
assert not [s["Resource"] for s in policy["Statement"] if s["Effect"] == "Allow" and s["Resource"]]
print("imported")
"""


def test_package_imports_with_only_what_the_runtime_adds(
    builds: dict[str, Build], tmp_path: Path
) -> None:
    # Given the slimmed package unzipped, and a directory holding only the libraries the
    # python3.11 Lambda runtime provides (boto3, botocore and their dependencies)
    code = tmp_path / "task"
    with zipfile.ZipFile(builds["dev"].package_path) as archive:
        archive.extractall(code)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    import boto3  # type: ignore[import-untyped]

    site_packages = Path(boto3.__file__).parent.parent
    for name in ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"):
        (runtime / name).symlink_to(site_packages / name)
    handler = builds["dev"].template()["Resources"]["AgentAuthorizer"]["Properties"]["Handler"]
    # When Python starts without site-packages and imports the app and its dependencies,
    # and the authorizer's handler
    completed = subprocess.run(
        [sys.executable, "-S", "-c", RUNTIME_IMPORT_CHECK, str(code), str(runtime), handler],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1"},
    )
    # Then everything imports (nothing the app needs was dropped from the package), and
    # the authorizer answers a deny when it is not configured
    assert completed.returncode == 0, completed.stderr
    *logged, last = completed.stdout.strip().splitlines()
    assert last == "imported"
    assert any("agent sign-in is not configured" in line for line in logged), logged


def test_agents_user_pool_is_wired_to_the_lambda(
    resources: dict[str, Any], template: dict[str, Any], stage: str
) -> None:
    # Given the Cognito pool for agents and the site's app client
    pool = resources["AgentUserPool"]
    client = resources["AgentUserPoolClient"]["Properties"]
    env = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    # Then only administrators create accounts, and the site signs in without a secret
    assert pool["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    # And they sign in with their email (the site's form; the local stack's pool too)
    assert pool["Properties"]["UsernameAttributes"] == ["email"]
    assert client["GenerateSecret"] is False
    assert set(client["ExplicitAuthFlows"]) == {
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True
    # And tokens last an hour, a sign-in at most a working day (then the agent signs in)
    units = client["TokenValidityUnits"]
    assert units == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"}
    assert client["AccessTokenValidity"] == client["IdTokenValidity"] == 60
    assert client["RefreshTokenValidity"] == 12
    # And the Lambda learns the pool, the client and the issuer its authorizer checks
    assert env["COGNITO_USER_POOL_ID"] == {"Ref": "AgentUserPool"}
    assert env["COGNITO_APP_CLIENT_ID"] == {"Ref": "AgentUserPoolClient"}
    issuer = "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${AgentUserPool}"
    assert env["COGNITO_ISSUER"] == {"Fn::Sub": issuer}
    outputs = template["Outputs"]
    assert outputs["AgentTokenIssuer"]["Value"] == {"Fn::Sub": issuer}
    assert outputs["AgentJwksUrl"]["Value"] == {"Fn::Sub": issuer + "/.well-known/jwks.json"}
    assert outputs["AgentUserPoolClientId"]["Value"] == {"Ref": "AgentUserPoolClient"}
    assert outputs["AgentUserPoolId"]["Value"] == {"Ref": "AgentUserPool"}
    # And the site learns where to sign in (config.js cognito.endpoint), with the region
    assert outputs["AgentSignInEndpoint"]["Value"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/"
    }
    # And prod keeps its agents' accounts when the stack goes, except when the create
    # that made them fails; dev keeps nothing
    if stage == "prod":
        assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == (
            "RetainExceptOnCreate",
            "Retain",
        )
    else:
        assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Delete"
    assert pool["Properties"]["DeletionProtection"] == {
        "Fn::If": ["ProtectData", "ACTIVE", "INACTIVE"]
    }


def test_agents_cannot_change_the_email_their_history_names(resources: dict[str, Any]) -> None:
    # Given the pool and the site's app client (issue 14: an agent renamed herself)
    pool = resources["AgentUserPool"]["Properties"]
    client = resources["AgentUserPoolClient"]["Properties"]
    # Then a new email takes effect only once verified (Cognito requires the attribute to
    # be auto-verified for that)
    required = pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"]
    assert required == ["email"]
    assert set(required) <= set(pool["AutoVerifiedAttributes"])
    # And the client lists what it may read and write: agents may set their locale only,
    # never their email (nor mark it verified) nor the display name others see
    assert client["WriteAttributes"] == ["locale"]
    assert {"email", "email_verified", "name"} <= set(client["ReadAttributes"])
    assert not {"email", "email_verified"} & set(client["WriteAttributes"])
