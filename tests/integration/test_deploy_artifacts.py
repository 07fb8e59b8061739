"""The deploy step's S3 side (artifacts bucket and uploads) against a real moto server.

CloudFormation itself cannot be exercised here (moto cannot import Chalice's Swagger
API); the template is checked in test_deploy_template.py.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest

from tools import deploy
from tools.deploy import Build, PackageSize


@pytest.fixture
def session(aws: str) -> Any:
    return boto3.session.Session(region_name="eu-west-1")


@pytest.fixture
def fake_build(tmp_path: Path) -> Build:
    """A built stage shaped like build/<stage>/ (tiny package, minimal template)."""
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "app = None\n")
    template = tmp_path / "template.json"
    function = {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}
    template.write_text(
        json.dumps(
            {
                "Resources": {
                    "APIHandler": function,
                    "AgentAuthorizer": function,
                    "TicketsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
                }
            }
        )
    )
    return Build("dev", tmp_path, template, package, PackageSize(1, 1, 0), 1)


def test_artifacts_bucket_is_created_once_named_for_account_and_region(session: Any) -> None:
    # Given no artifacts bucket yet
    # When the deploy step asks for one, twice
    first = deploy._ensure_artifacts_bucket(session, None)
    second = deploy._ensure_artifacts_bucket(session, None)
    # Then one private bucket named for the account and region exists
    account = session.client("sts").get_caller_identity()["Account"]
    assert first == second == f"support-tickets-artifacts-{account}-eu-west-1"
    s3 = session.client("s3")
    block = s3.get_public_access_block(Bucket=first)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert deploy.bucket_region(s3, first) == "eu-west-1"
    # And nothing in it expires: a rollback needs the package of the version it returns
    # to, however old (issue 13); only interrupted uploads are cleaned up
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=first)["Rules"]
    assert "Expiration" not in rule
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_package_and_template_are_uploaded_and_linked(session: Any, fake_build: Build) -> None:
    # Given an artifacts bucket
    bucket = deploy._ensure_artifacts_bucket(session, "my-artifacts")
    # When the build is uploaded
    template_url, code_uri = deploy._upload_artifacts(session, bucket, fake_build)
    # Then the package is stored under its content hash
    s3 = session.client("s3")
    code_key = code_uri.removeprefix(f"s3://{bucket}/")
    assert code_key.startswith("dev/") and code_key.endswith(".zip")
    stored = s3.get_object(Bucket=bucket, Key=code_key)["Body"].read()
    assert stored == fake_build.package_path.read_bytes()
    template_key = template_url.split(".amazonaws.com/", 1)[1]
    assert template_url.startswith(f"https://{bucket}.s3.eu-west-1.amazonaws.com/")
    template = json.loads(s3.get_object(Bucket=bucket, Key=template_key)["Body"].read())
    # And the uploaded template points both functions (API and authorizer) at it
    for function in ("APIHandler", "AgentAuthorizer"):
        assert template["Resources"][function]["Properties"]["CodeUri"] == code_uri, function
    assert "./deployment.zip" not in json.dumps(template)


def test_code_location_refuses_a_function_packaged_elsewhere(fake_build: Build) -> None:
    # Given a template whose authorizer names some other code location
    template = fake_build.template()
    template["Resources"]["AgentAuthorizer"]["Properties"]["CodeUri"] = "./other.zip"
    # When the S3 location is set, Then the build fails instead of deploying stale code
    with pytest.raises(deploy.DeployError, match="AgentAuthorizer: unexpected CodeUri"):
        deploy.with_code_location(template, "s3://bucket/code.zip")


def test_cli_reports_a_missing_region_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no region anywhere
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    # When destroy is run
    status = deploy.main(["destroy", "--stage", "dev"])
    # Then it fails with a message saying what to set, before touching anything
    assert status == 1
    assert "No AWS region" in capsys.readouterr().err


def test_cli_rejects_an_unknown_stage() -> None:
    # Given a stage that has no config, When plan is asked for it, Then argparse refuses
    with pytest.raises(SystemExit):
        deploy.main(["plan", "--stage", "staging"])
