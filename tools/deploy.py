"""Build, check and deploy one stage to AWS.

    python -m tools.deploy plan    --stage dev|prod   # build + checks, no AWS calls
    python -m tools.deploy deploy  --stage dev|prod [--artifacts-bucket NAME]
    python -m tools.deploy destroy --stage dev|prod

``plan`` merges ``infra/template.yaml`` with ``infra/stages/<stage>.yaml``, runs
``chalice package --merge-template`` into ``build/<stage>/``, binds the CORS preflight
answers to the site's origin, drops from ``deployment.zip`` what the Lambda runtime
already provides, and checks the result (cfn-lint, the SAM transform, package contents
and size). ``deploy`` then uploads the artifacts and applies the template through a
CloudFormation change set, publishes ``static-site/`` and invalidates CloudFront. Every
AWS call goes through boto3: the AWS CLI is not needed. See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import mimetypes
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml  # type: ignore[import-untyped]

from tools.site_build import api_origin, render_index_html
from tools.site_config import render_config_js

PROJECT_DIR = Path(__file__).resolve().parent.parent
INFRA_DIR = PROJECT_DIR / "infra"
SITE_DIR = PROJECT_DIR / "static-site"
BUILD_DIR = PROJECT_DIR / "build"
STAGES = ("dev", "prod")
APP_NAME = "support-tickets"

# `chalice package` bakes the route's CORS origin into the OPTIONS mock integrations (see
# chalicelib/api/http.py SettingsCorsConfig). The real origin (the CloudFront domain) only
# exists at deploy time, so packaging runs with this placeholder, which is then replaced
# by a reference to the distribution. A placeholder left anywhere fails the build.
SITE_ORIGIN_PLACEHOLDER = "https://site-origin.invalid"
SITE_ORIGIN_HEADER_VALUE: dict[str, str] = {"Fn::Sub": "'https://${SiteDistribution.DomainName}'"}
_ALLOW_ORIGIN_PARAMETER = "method.response.header.Access-Control-Allow-Origin"

# The python3.11 Lambda runtime ships these (AWS documents boto3/botocore and their
# dependencies as included); bundling our own copies would add ~17 MB zipped.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
# Nothing from requirements-dev.txt may reach the Lambda. chalice/ itself is allowed: the
# package carries chalice's runtime (chalice/app.py); its CLI dependencies are not.
DEV_ONLY = (
    "moto",
    "pytest",
    "_pytest",
    "pluggy",
    "hypothesis",
    "schemathesis",
    "playwright",
    "pytest_playwright",
    "cfnlint",
    "samtranslator",
    "mypy",
    "ruff",
    "click",
    "inquirer",
    "blessed",
    "readchar",
    "werkzeug",
    "flask",
    "requests",
    "pip",
    "setuptools",
    "wheel",
)
MAX_PACKAGE_BYTES = 25 * 1024 * 1024
# Where `chalice package` points every function's code; replaced by the S3 location.
LOCAL_CODE_URI = "./deployment.zip"
# Assets go under a content-hashed prefix, so they can be cached for a year.
ASSET_PREFIX = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}


class DeployError(RuntimeError):
    """A step failed in a way the operator must fix; the message says how."""


# --------------------------------------------------------------------------- templates


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...)."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_cfn_yaml(path: Path) -> dict[str, Any]:
    """A CloudFormation YAML file as plain data (short-form tags expanded)."""
    loaded = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - safe loader subclass
    if not isinstance(loaded, dict):
        raise DeployError(f"{path} is not a YAML mapping")
    return loaded


def deep_merge(overlay: Any, base: Any) -> Any:
    """Chalice's ``--merge-template`` rule: dicts merge key by key, anything else replaces."""
    if isinstance(overlay, dict) and isinstance(base, dict):
        merged = dict(base)
        for key, value in overlay.items():
            merged[key] = deep_merge(value, base.get(key))
        return merged
    return copy.deepcopy(overlay)


def render_merge_template(stage: str) -> dict[str, Any]:
    """``infra/template.yaml`` with ``infra/stages/<stage>.yaml`` merged over it."""
    _check_stage(stage)
    base = load_cfn_yaml(INFRA_DIR / "template.yaml")
    overlay = load_cfn_yaml(INFRA_DIR / "stages" / f"{stage}.yaml")
    merged: dict[str, Any] = deep_merge(overlay, base)
    declared = merged["Parameters"]["Stage"].get("Default")
    if declared != stage:
        raise DeployError(f"infra/stages/{stage}.yaml declares Stage {declared!r}")
    return merged


def bind_preflight_origin(template: dict[str, Any]) -> int:
    """Point every OPTIONS mock integration's ``Access-Control-Allow-Origin`` at the site.

    Returns how many were rewritten. Fails when a preflight carries another origin, or the
    placeholder survives anywhere (Chalice changed how it writes preflights).
    """
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    bound = 0
    for path, methods in paths.items():
        options = methods.get("options")
        if options is None:
            continue
        integration = options["x-amazon-apigateway-integration"]
        for response in integration["responses"].values():
            params = response.get("responseParameters", {})
            value = params.get(_ALLOW_ORIGIN_PARAMETER)
            if value is None:
                continue
            if value != f"'{SITE_ORIGIN_PLACEHOLDER}'":
                raise DeployError(f"OPTIONS {path}: unexpected Allow-Origin {value!r}")
            params[_ALLOW_ORIGIN_PARAMETER] = dict(SITE_ORIGIN_HEADER_VALUE)
            bound += 1
    if SITE_ORIGIN_PLACEHOLDER in json.dumps(template):
        raise DeployError("the site origin placeholder is still in the template")
    if bound == 0:
        raise DeployError("no CORS preflight integration found in the generated API")
    return bound


# --------------------------------------------------------------------------- package


@dataclass(frozen=True)
class PackageSize:
    """Zipped size of the Lambda package as Chalice built it, and as deployed."""

    chalice_bytes: int
    deployed_bytes: int
    files_removed: int

    def __str__(self) -> str:
        return (
            f"{self.deployed_bytes / 1e6:.1f} MB zipped as deployed "
            f"({self.chalice_bytes / 1e6:.1f} MB as `chalice package` builds it; "
            f"{self.files_removed} files the Lambda runtime provides or never reads dropped)"
        )


def _top_level(name: str) -> str:
    top = name.split("/", 1)[0]
    if top.endswith(".dist-info"):
        return top.split("-", 1)[0].lower().replace("-", "_")
    return top.removesuffix(".py").lower()


def _removable(name: str) -> bool:
    parts = PurePosixPath(name).parts
    if _top_level(name) in {*RUNTIME_PROVIDED, "python_dateutil"}:
        return True
    if "__pycache__" in parts or name.endswith((".pyc", ".pyo")):
        return True
    # Only RECORD goes: METADATA stays for importlib.metadata.version() lookups.
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD"


def slim_package(zip_path: Path) -> PackageSize:
    """Rewrite ``deployment.zip`` without runtime-provided libraries, caches and RECORDs."""
    before = zip_path.stat().st_size
    slim_path = zip_path.with_suffix(".slim.zip")
    removed = 0
    with (
        zipfile.ZipFile(zip_path) as source,
        zipfile.ZipFile(slim_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for info in source.infolist():
            if _removable(info.filename):
                removed += 1
                continue
            target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED)
    slim_path.replace(zip_path)
    return PackageSize(before, zip_path.stat().st_size, removed)


def package_problems(zip_path: Path) -> list[str]:
    """What must not be deployed: dev-only packages, runtime duplicates, a missing app."""
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
    tops = {_top_level(name) for name in names}
    problems = [
        f"dev-only package in the Lambda package: {top}" for top in sorted(tops) if top in DEV_ONLY
    ]
    problems += [
        f"runtime-provided package still bundled: {top}"
        for top in sorted(tops)
        if top in RUNTIME_PROVIDED
    ]
    if any(name.startswith("chalice/cli/") for name in names):
        problems.append("chalice's CLI is in the Lambda package")
    for required in ("app.py", "chalicelib/__init__.py", "chalice/app.py"):
        if required not in names:
            problems.append(f"missing from the Lambda package: {required}")
    size = zip_path.stat().st_size
    if size > MAX_PACKAGE_BYTES:
        problems.append(f"package is {size / 1e6:.1f} MB zipped; the budget is 25 MiB")
    return problems


# --------------------------------------------------------------------------- checks


def lint_template(template_path: Path) -> tuple[list[str], list[str]]:
    """cfn-lint's (errors, warnings) for a built template, as printable lines."""
    # Lazy: cfn-lint and samtranslator take about a second to import.
    from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

    matches = lint(template_path.read_text(), config=ManualArgs(regions=["us-east-1"]))
    errors: list[str] = []
    warnings: list[str] = []
    for match in matches:
        line = f"{match.rule.id} {match.message} ({match.linenumber})"
        (errors if match.rule.id.startswith("E") else warnings).append(line)
    return errors, warnings


def lambda_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Lambda functions by logical id: the API handler and the authorizer."""
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def with_code_location(template: dict[str, Any], code_uri: str) -> dict[str, Any]:
    """A copy of the template with every function's ``CodeUri`` pointing at ``code_uri``.

    Chalice builds one ``deployment.zip`` for all its functions (the API handler and each
    built-in authorizer); a function left at the local path fails the SAM transform.
    """
    located = copy.deepcopy(template)
    functions = lambda_functions(located)
    if not functions:
        raise DeployError("the template has no Lambda function")
    for logical_id, function in functions.items():
        found = function["Properties"].get("CodeUri")
        if found != LOCAL_CODE_URI:
            raise DeployError(f"{logical_id}: unexpected CodeUri {found!r}")
        function["Properties"]["CodeUri"] = code_uri
    return located


def sam_translate(template: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The plain CloudFormation the SAM transform makes of the template (no AWS calls)."""
    import boto3  # type: ignore[import-untyped]
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    located = with_code_location(template, "s3://artifacts-bucket/deployment.zip")
    # The template names no AWS managed policies, so the map is never consulted.
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    result: dict[str, Any] = translator.translate(located, parameter_values={})
    return result


# --------------------------------------------------------------------------- build / plan


@dataclass(frozen=True)
class Build:
    """One stage's built artifacts under ``build/<stage>/``."""

    stage: str
    out_dir: Path
    template_path: Path
    package_path: Path
    size: PackageSize
    preflights_bound: int

    def template(self) -> dict[str, Any]:
        """The built template (JSON)."""
        loaded: dict[str, Any] = json.loads(self.template_path.read_text())
        return loaded


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise DeployError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")


def build(stage: str, out_dir: Path | None = None) -> Build:
    """``chalice package`` with the merged infra template, then bind and slim (no AWS)."""
    _check_stage(stage)
    out_dir = out_dir or BUILD_DIR / stage
    out_dir.mkdir(parents=True, exist_ok=True)
    merge_path = out_dir / "merge-template.json"
    merge_path.write_text(json.dumps(render_merge_template(stage), indent=1))
    package_dir = out_dir / "package"
    env = {
        **os.environ,
        "CORS_ALLOWED_ORIGINS": SITE_ORIGIN_PLACEHOLDER,
        # Packaging makes no AWS call, but Chalice insists on a region.
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    }
    command = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.exit(main())",
        "--project-dir",
        str(PROJECT_DIR),
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(merge_path),
        str(package_dir),
    ]
    # A fixed argument list, no shell.
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise DeployError(f"chalice package failed:\n{completed.stdout}{completed.stderr}")
    template = json.loads((package_dir / "sam.json").read_text())
    bound = bind_preflight_origin(template)
    template_path = out_dir / "template.json"
    template_path.write_text(json.dumps(template, indent=1))
    package_path = out_dir / "deployment.zip"
    (package_dir / "deployment.zip").replace(package_path)
    size = slim_package(package_path)
    return Build(stage, out_dir, template_path, package_path, size, bound)


def package_size_report(stage: str = "dev") -> PackageSize:
    """Build ``stage`` and report the Lambda package's zipped size (for ``make bench``).

    ``str()`` of the result is one readable line; the fields hold the byte counts.
    """
    return build(stage).size


def plan(stage: str, out_dir: Path | None = None) -> Build:
    """Build and check a stage, then print what would be deployed. No AWS calls."""
    result = build(stage, out_dir)
    template = result.template()
    errors, warnings = lint_template(result.template_path)
    sam_translate(template)
    problems = package_problems(result.package_path)
    counts = Counter(resource["Type"] for resource in template["Resources"].values())
    print(f"Stage {stage}: {result.template_path}")
    for resource_type, count in sorted(counts.items()):
        print(f"  {count:2d} x {resource_type}")
    print("Outputs: " + ", ".join(sorted(template["Outputs"])))
    print(f"Lambda package: {result.size}")
    print(f"CORS preflights bound to the site origin: {result.preflights_bound}")
    print(f"cfn-lint: {len(errors)} errors, {len(warnings)} warnings; SAM transform: ok")
    for line in warnings:
        print(f"  warning {line}")
    failures = [f"cfn-lint {line}" for line in errors] + problems
    if failures:
        raise DeployError("plan checks failed:\n  " + "\n  ".join(failures))
    return result


# --------------------------------------------------------------------------- site upload


def _content_type(path: PurePosixPath) -> str:
    known = _CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _site_files(site_dir: Path) -> Iterator[tuple[PurePosixPath, Path]]:
    for path in sorted(site_dir.rglob("*")):
        relative = PurePosixPath(path.relative_to(site_dir).as_posix())
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        # config.js is written per deploy; a local one (from `make run`) is never shipped.
        if relative.suffix == ".py" or relative == PurePosixPath("config.js"):
            continue
        yield relative, path


@dataclass(frozen=True)
class SiteConfig:
    """What a deployed site needs at run time: its API, and where agents sign in."""

    api_url: str
    cognito_endpoint: str
    cognito_region: str
    cognito_client_id: str

    @classmethod
    def from_stack_outputs(cls, outputs: dict[str, str], region: str) -> SiteConfig:
        """The values the stack's outputs give (``region`` is the stack's)."""
        return cls(
            api_url=outputs["ApiUrl"],
            cognito_endpoint=outputs["AgentSignInEndpoint"],
            cognito_region=region,
            cognito_client_id=outputs["AgentUserPoolClientId"],
        )

    def config_js_values(self) -> dict[str, Any]:
        """``config.js``'s object: the same shape local_stack/stack.py ``site_config`` writes."""
        return {
            "apiBaseUrl": self.api_url.rstrip("/"),
            "cognito": {
                "endpoint": self.cognito_endpoint,
                "region": self.cognito_region,
                "clientId": self.cognito_client_id,
            },
        }

    def connect_origins(self) -> tuple[str, str]:
        """The page's only cross-origin peers: the API, then Cognito (for the meta CSP)."""
        return api_origin(self.api_url), api_origin(self.cognito_endpoint)


def _index_html(site_dir: Path, api: str, other_origins: tuple[str, ...]) -> str:
    """``index.html`` with the meta CSP's connect-src narrowed to exactly these origins.

    The checked-in page allows loopback on any port (for ``make run``); published as is,
    the deployed page could reach neither the API nor Cognito.
    """
    return render_index_html(
        api,
        template=(site_dir / "index.html").read_text(encoding="utf-8"),
        extra_origins=other_origins,
    )


def _point_at_assets(html: str, asset_paths: set[str], prefix: str) -> str:
    """Rewrite ``src``/``href`` attributes naming a site file to its hashed location."""

    def replace(match: re.Match[str]) -> str:
        attribute, quote, target = match.group(1), match.group(2), match.group(3)
        path = target.removeprefix("./")
        if path not in asset_paths:
            return match.group(0)
        return f"{attribute}={quote}{prefix}/{path}{quote}"

    return re.sub(r"""\b(src|href)=(["'])([^"'#?:]+)\2""", replace, html)


def site_version(site_dir: Path) -> str:
    """A short hash of every asset: a new deploy of changed files gets new URLs."""
    digest = hashlib.sha256()
    for relative, path in _site_files(site_dir):
        if relative.as_posix() != "index.html":
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def upload_site(s3_client: Any, bucket: str, site_dir: Path, config: SiteConfig) -> list[str]:
    """Publish the site: hashed assets (immutable), then ``config.js`` and ``index.html``.

    Assets go under ``assets/<hash>/`` with a year-long immutable cache; the relative
    imports between ES modules keep working under that prefix. ``index.html`` and
    ``config.js`` stay at the root with ``no-cache``, and are written last, so a browser
    never loads an index that names assets not uploaded yet. ``config.js`` tells the site
    its API and Cognito app client; the meta CSP of ``index.html`` lets the page connect
    to exactly those two origins. Returns the keys written.
    """
    version = site_version(site_dir)
    prefix = f"{ASSET_PREFIX}/{version}"
    uploaded: list[str] = []
    assets: set[str] = set()
    for relative, path in _site_files(site_dir):
        if relative.as_posix() == "index.html":
            continue
        key = f"{prefix}/{relative.as_posix()}"
        s3_client.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=_content_type(relative),
            CacheControl=IMMUTABLE,
        )
        assets.add(relative.as_posix())
        uploaded.append(key)
    api, cognito = config.connect_origins()
    config_js = render_config_js(config.config_js_values())
    index_html = _point_at_assets(_index_html(site_dir, api, (cognito,)), assets, prefix)
    for key, body, content_type in (
        ("config.js", config_js, _CONTENT_TYPES[".js"]),
        ("index.html", index_html, _CONTENT_TYPES[".html"]),
    ):
        s3_client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body.encode(),
            ContentType=content_type,
            CacheControl=NO_CACHE,
        )
        uploaded.append(key)
    return uploaded


def empty_bucket(s3_client: Any, bucket: str) -> int:
    """Delete every object version and delete marker (a non-empty bucket cannot be deleted)."""
    deleted = 0
    paginator = s3_client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        keys = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            s3_client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            deleted += len(batch)
    return deleted


# --------------------------------------------------------------------------- AWS


def stack_name(stage: str) -> str:
    """The CloudFormation stack of a stage."""
    return f"{APP_NAME}-{stage}"


def _session() -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    session = boto3.session.Session()
    if not session.region_name:
        raise DeployError("No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's)")
    try:
        session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"No usable AWS credentials ({exc}); see docs/deploy.md") from exc
    return session


def _ensure_artifacts_bucket(session: Any, name: str | None) -> str:
    from botocore.exceptions import ClientError

    s3 = session.client("s3")
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = name or f"{APP_NAME}-artifacts-{account}-{session.region_name}"
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return bucket
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
    print(f"Creating the artifacts bucket {bucket}")
    create: dict[str, Any] = {"Bucket": bucket}
    if session.region_name != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": session.region_name}
    s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    # Old packages are only needed for a rollback in progress.
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "expire", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}
            ]
        },
    )
    return bucket


def _upload_artifacts(session: Any, bucket: str, result: Build) -> tuple[str, str]:
    """Upload the package and the template; returns (template URL, code URI)."""
    s3 = session.client("s3")
    code_digest = hashlib.sha256(result.package_path.read_bytes()).hexdigest()
    code_key = f"{result.stage}/{code_digest}.zip"
    s3.upload_file(str(result.package_path), bucket, code_key)
    template = with_code_location(result.template(), f"s3://{bucket}/{code_key}")
    # The REST API's swagger makes the template larger than TemplateBody's 51,200 bytes.
    body = json.dumps(template, separators=(",", ":")).encode()
    template_key = f"{result.stage}/{hashlib.sha256(body).hexdigest()}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    region = session.region_name
    template_url = f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"
    return template_url, f"s3://{bucket}/{code_key}"


def _stack_status(cloudformation: Any, name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    status: str = stacks[0]["StackStatus"]
    return status


def _apply_change_set(session: Any, name: str, template_url: str) -> None:
    from botocore.exceptions import WaiterError  # type: ignore[import-untyped]

    cloudformation = session.client("cloudformation")
    status = _stack_status(cloudformation, name)
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(f"stack {name} is ROLLBACK_COMPLETE: run `make destroy` first")
    change_set_type = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
    change_set = f"{name}-{hashlib.sha256(template_url.encode()).hexdigest()[:10]}"
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType=change_set_type,
        TemplateURL=template_url,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        Tags=[{"Key": "app", "Value": APP_NAME}],
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig={"Delay": 5}
        )
    except WaiterError as exc:
        reason = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
        text = reason.get("StatusReason", "")
        if "didn't contain changes" in text or "No updates" in text:
            print("The stack is already up to date")
            cloudformation.delete_change_set(StackName=name, ChangeSetName=change_set)
            return
        raise DeployError(f"change set failed: {text}") from exc
    print(f"Executing change set {change_set} ({change_set_type})")
    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if change_set_type == "CREATE" else "stack_update_complete"
    try:
        # A new CloudFront distribution alone can take 5-15 minutes.
        cloudformation.get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
        )
    except WaiterError as exc:
        raise DeployError(
            f"stack {name} did not finish: see its events in the CloudFormation console"
        ) from exc


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """A stack's Outputs as a dict."""
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def deploy(stage: str, artifacts_bucket: str | None = None, site_dir: Path = SITE_DIR) -> None:
    """Plan, apply the stack, publish the site, invalidate CloudFront, print the URLs."""
    result = plan(stage)
    session = _session()
    bucket = _ensure_artifacts_bucket(session, artifacts_bucket)
    template_url, code_uri = _upload_artifacts(session, bucket, result)
    print(f"Uploaded {code_uri}")
    name = stack_name(stage)
    _apply_change_set(session, name, template_url)
    outputs = stack_outputs(session.client("cloudformation"), name)
    site_config = SiteConfig.from_stack_outputs(outputs, session.region_name)
    keys = upload_site(session.client("s3"), outputs["SiteBucket"], site_dir, site_config)
    print(f"Uploaded {len(keys)} site files to s3://{outputs['SiteBucket']}")
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["DistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": hashlib.sha256(",".join(keys).encode()).hexdigest()[:32],
        },
    )
    print(f"Site: {outputs['SiteUrl']}")
    print(f"API:  {outputs['ApiUrl']}")


def destroy(stage: str) -> None:
    """Empty the site bucket, delete the stack, and name what was retained."""
    from botocore.exceptions import WaiterError

    _check_stage(stage)
    session = _session()
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    if _stack_status(cloudformation, name) is None:
        print(f"No stack {name}: nothing to do")
        return
    outputs = stack_outputs(cloudformation, name)
    deployed = cloudformation.get_template(StackName=name, TemplateStage="Processed")
    body = deployed["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    physical = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    }
    retained = [
        f"{logical} ({resource['Type']}): {physical.get(logical, '?')}"
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") == "Retain"
    ]
    if "SiteBucket" in outputs:
        count = empty_bucket(session.client("s3"), outputs["SiteBucket"])
        print(f"Emptied s3://{outputs['SiteBucket']} ({count} objects)")
    cloudformation.delete_stack(StackName=name)
    print(f"Deleting stack {name}")
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
        )
    except WaiterError as exc:
        raise DeployError(f"stack {name} was not deleted: see its events") from exc
    print(f"Deleted stack {name}")
    for line in retained:
        print(f"Retained (delete it yourself if you mean to): {line}")
    print(
        "Not managed by the stack and left in place: the SSM parameter "
        f"{outputs.get('AnthropicKeyParameterName', '?')} and the artifacts bucket"
    )


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__)
    parser.add_argument("command", choices=("plan", "deploy", "destroy"))
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--artifacts-bucket", help="S3 bucket for the package and template")
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[], object]] = {
        "plan": lambda: plan(args.stage),
        "deploy": lambda: deploy(args.stage, args.artifacts_bucket),
        "destroy": lambda: destroy(args.stage),
    }
    try:
        commands[args.command]()
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
