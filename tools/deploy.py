"""Build, check and deploy one stage to AWS.

    python -m tools.deploy plan    --stage dev [--stage prod]  # build, checks, checkov; no AWS
    python -m tools.deploy deploy  --stage dev|prod [--yes] [--artifacts-bucket NAME]
                                   [--import-retained] [--no-reserved-concurrency]
                                   [--mail-sender "Support <support@example.com>"]
                                   [--confirmations-per-hour N] [--alarm-email ADDRESS|none]
    python -m tools.deploy destroy --stage dev|prod [--yes]     # prod: type the stack name
    python -m tools.deploy set-anthropic-key --stage dev|prod   # prompts; never on a command line
    python -m tools.deploy add-agent --stage dev|prod --email alice@example.com
    python -m tools.deploy rotate-cursor-key --stage dev|prod
    python -m tools.deploy rotate-link-key --stage dev|prod

``plan`` merges ``infra/template.yaml`` with ``infra/stages/<stage>.yaml``, runs
``chalice package --merge-template`` into ``build/<stage>/``, binds the CORS preflight
answers to the site's origin, drops from ``deployment.zip`` what the Lambda runtime
already provides, and checks the result (cfn-lint, the SAM transform, package contents,
size and runtime, checkov). ``deploy`` resolves the region (``AWS_REGION``, then
``AWS_DEFAULT_REGION``, then the profile), says what it will do to which account and asks
before changing anything (the SES sender's identity and the account's sandbox included).
It then uploads the artifacts, creates the stage's cursor signing key and customer link key
if missing, and applies the template through CloudFormation change sets,
continuing from whatever state an earlier failed run left. Finally it publishes
``static-site/`` and invalidates CloudFront. See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import base64
import copy
import functools
import getpass
import hashlib
import json
import mimetypes
import os
import re
import secrets
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
# `chalice package` names the runtime after the interpreter running it, and bundles wheels
# built for that interpreter. The tests run on 3.11, so only a 3.11 build may be deployed.
LAMBDA_RUNTIME = "python3.11"
# checkov lives in its own virtualenv (its pins clash with ours: docs/dependencies.md).
CHECKOV = PROJECT_DIR / ".venv-checkov" / "bin" / "checkov"
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


def runtime_problems(template: dict[str, Any]) -> list[str]:
    """Functions that would not run on ``LAMBDA_RUNTIME``, the Python the tests ran on."""
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [
        f"{logical_id} runs {function['Properties'].get('Runtime')!r}, not {LAMBDA_RUNTIME!r}: "
        f"package with Python {LAMBDA_RUNTIME.removeprefix('python')} (this is {running})"
        for logical_id, function in lambda_functions(template).items()
        if function["Properties"].get("Runtime") != LAMBDA_RUNTIME
    ]


ALARM_TOPIC = "AlarmTopic"
_ALARM_TYPE = "AWS::CloudWatch::Alarm"


def alarm_problems(template: dict[str, Any]) -> list[str]:
    """Alarms nobody would hear of: each must notify the stack's topic when it goes off and
    when it clears, and say what missing data means (docs/deploy.md, "Alarms")."""
    topic = {"Ref": ALARM_TOPIC}
    problems = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != _ALARM_TYPE:
            continue
        properties = resource.get("Properties", {})
        for actions in ("AlarmActions", "OKActions"):
            if topic not in properties.get(actions, []):
                problems.append(f"{logical_id}: {actions} does not notify {ALARM_TOPIC}")
        if "TreatMissingData" not in properties:
            problems.append(f"{logical_id}: no TreatMissingData")
    return problems


@dataclass(frozen=True)
class AuditResult:
    """What checkov made of the built templates: counts, and each failed or skipped check."""

    passed: list[tuple[str, str]]  # (check id, resource)
    failed: list[str]
    skipped: list[tuple[str, str, str]]  # (check id, resource, the template's reason)

    def __str__(self) -> str:
        return f"{len(self.passed)} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"

    @property
    def unexplained(self) -> list[str]:
        """Skips without a reason (checkov says "No comment provided" for those)."""
        return [
            f"{check_id} {resource}: skipped without a reason"
            for check_id, resource, reason in self.skipped
            if not reason.strip() or reason == "No comment provided"
        ]


def audit_templates(template_paths: list[Path]) -> AuditResult:
    """Run checkov on built templates; each skip must carry its reason in the template."""
    if not CHECKOV.exists():
        raise DeployError(f"checkov is not installed at {CHECKOV}: run `make checkov`")
    command = [str(CHECKOV), "--framework", "cloudformation", "--output", "json"]
    # No network here, and nothing to fetch: the checks ship inside the package.
    command.append("--skip-download")
    for path in template_paths:
        command += ["--file", str(path)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise DeployError(f"checkov failed:\n{completed.stdout}{completed.stderr}") from exc
    reports = report if isinstance(report, list) else [report]
    passed: list[tuple[str, str]] = []
    failed: list[str] = []
    skipped: list[tuple[str, str, str]] = []
    for one in reports:
        results = one.get("results", {})
        passed += [(c["check_id"], c["resource"]) for c in results.get("passed_checks", [])]
        for check in results.get("failed_checks", []):
            where = Path(check["file_path"]).parent.name
            failed.append(
                f"{check['check_id']} {check['resource']} ({where}): {check['check_name']}"
            )
        for check in results.get("skipped_checks", []):
            reason = check["check_result"].get("suppress_comment", "")
            skipped.append((check["check_id"], check["resource"], reason))
        if results.get("parsing_errors"):
            failed += [f"checkov could not parse {path}" for path in results["parsing_errors"]]
    return AuditResult(passed, failed, skipped)


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
    problems = (
        package_problems(result.package_path)
        + runtime_problems(template)
        + alarm_problems(template)
    )
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


def plan_and_audit(stages: list[str]) -> list[Build]:
    """``plan`` for each stage, then checkov on all their templates (``make plan``)."""
    builds = [plan(stage) for stage in stages]
    audit = audit_templates([built.template_path for built in builds])
    print(f"checkov ({', '.join(stages)}): {audit}")
    # The same skip appears once per stage: list each once.
    for check_id, resource, reason in sorted(set(audit.skipped)):
        print(f"  skipped {check_id} {resource}: {reason}")
    if audit.failed or audit.unexplained:
        lines = audit.failed + audit.unexplained
        raise DeployError(
            "checkov findings (fix them, or skip them with a reason in the "
            "resource's Metadata; docs/security.md):\n  " + "\n  ".join(lines)
        )
    return builds


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


# --------------------------------------------------------------------------- AWS: where


def stack_name(stage: str) -> str:
    """The CloudFormation stack of a stage."""
    return f"{APP_NAME}-{stage}"


def stage_default(stage: str, parameter: str) -> str:
    """A template parameter's default for the stage (infra/stages/<stage>.yaml wins)."""
    return str(render_merge_template(stage)["Parameters"][parameter]["Default"])


def resolve_region(environ: Mapping[str, str], configured: str | None) -> tuple[str, str]:
    """The region to deploy to, and where it was found.

    ``AWS_REGION`` first, then ``AWS_DEFAULT_REGION``, then the profile's region: the order
    of the AWS CLI v2, which the docs use for the SSM and Cognito steps. boto3 alone
    ignores ``AWS_REGION`` (issue 13), so the stack could land in one region and the keys
    in another.
    """
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = environ.get(variable, "").strip()
        if value:
            return value, variable
    if configured:
        return configured, "the profile"
    raise DeployError(
        "No AWS region: export AWS_REGION=<region> (or set AWS_DEFAULT_REGION, or a region "
        "in your AWS profile)"
    )


@dataclass(frozen=True)
class Target:
    """The account, identity and region every AWS call of this run goes to."""

    session: Any
    region: str
    region_source: str
    account: str
    caller: str

    def __str__(self) -> str:
        return (
            f"account {self.account} as {self.caller}, "
            f"region {self.region} (from {self.region_source})"
        )


def aws_target(environ: Mapping[str, str] = os.environ) -> Target:
    """A boto3 session for the resolved region, with the caller's identity checked."""
    import boto3  # type: ignore[import-untyped]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    try:
        configured = boto3.session.Session().region_name
        region, source = resolve_region(environ, configured)
        session = boto3.session.Session(region_name=region)
        identity = session.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"No usable AWS credentials ({exc}); see docs/deploy.md") from exc
    return Target(session, region, source, identity["Account"], identity["Arn"])


Ask = Callable[[str], str]


def confirm(question: str, *, assume_yes: bool, ask: Ask = input) -> None:
    """Go on only on an explicit yes (or ``--yes``); anything else changes nothing."""
    if assume_yes:
        return
    try:
        answer = ask(f"{question} [y/N] ")
    except EOFError as exc:
        raise DeployError("no answer on standard input: re-run with --yes to go ahead") from exc
    if answer.strip().lower() not in ("y", "yes"):
        raise DeployError("cancelled: nothing was changed")


def confirm_stack_name(name: str, ask: Ask = input) -> None:
    """Deleting prod: the operator types the stack's name; ``--yes`` does not skip this."""
    try:
        typed = ask(f"This deletes the stack {name}. Type its name to go ahead: ").strip()
    except EOFError as exc:
        raise DeployError(f"not deleted: type {name} to confirm") from exc
    if typed != name:
        raise DeployError(f"not deleted: {typed!r} is not {name!r}")


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------- AWS: artifacts


def bucket_region(s3: Any, bucket: str) -> str:
    """The region a bucket lives in (S3 answers None for us-east-1 and "EU" for eu-west-1)."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    legacy = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}
    return legacy.get(location, str(location))


def _ensure_artifacts_bucket(session: Any, name: str | None) -> str:
    """The bucket for packages and templates: created if missing, in the stack's region.

    Its objects never expire: a rollback needs the package of the version it returns to,
    however old (issue 13). Keys are content hashes, so a redeploy adds nothing new.
    """
    from botocore.exceptions import ClientError

    s3 = session.client("s3")
    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    bucket = name or f"{APP_NAME}-artifacts-{account}-{region}"
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
    except ClientError as exc:
        if _error_code(exc) not in ("404", "NoSuchBucket"):
            raise DeployError(f"artifacts bucket {bucket}: {exc}") from exc
    else:
        located = bucket_region(s3, bucket)
        if located != region:
            raise DeployError(
                f"the artifacts bucket {bucket} is in {located}, but the stack goes to {region}, "
                f"and Lambda reads its code from a bucket in its own region: name a bucket in "
                f"{region} with --artifacts-bucket, or leave the option out"
            )
        return bucket
    print(f"Creating the artifacts bucket {bucket}")
    create: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
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
    # Only interrupted uploads are cleaned up; packages and templates stay (see above).
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "abort-incomplete-uploads",
                    "Status": "Enabled",
                    "Filter": {},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
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


# --------------------------------------------------------------------------- AWS: secrets


@dataclass(frozen=True)
class StageKey:
    """A random key the deploy creates in SSM for a stage: never printed, never overwritten."""

    parameter: str  # the template parameter naming it
    description: str  # stored with the parameter
    rotate_command: str
    rotation_effect: str  # what the operator is told before a rotation


# Both are created (32 random bytes, base64, SecureString) by the first deploy of a stage.
STAGE_KEYS = (
    StageKey(
        "CursorKeyParameterName",
        "Signs the API's page cursors (tools/deploy.py; rotate-cursor-key)",
        "rotate-cursor-key",
        "Open page cursors stop working (lists start again at page 1)",
    ),
    StageKey(
        "LinkKeyParameterName",
        "Derives customers' private ticket links (tools/deploy.py; rotate-link-key)",
        "rotate-link-key",
        "Links customers already have keep working, but emails about tickets whose link was "
        "issued before now (those in flight included) carry a link that does not open, "
        "until an agent sends that customer a new link",
    ),
)


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def parameter_exists(ssm: Any, name: str) -> bool:
    """Whether an SSM parameter exists (metadata only: the value is never read)."""
    found = ssm.describe_parameters(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )["Parameters"]
    return bool(found)


def ensure_key(ssm: Any, name: str, description: str) -> bool:
    """Create a stage key (cursor or link key) unless it exists; True when it was created.

    32 random bytes, base64, as a SecureString. Never printed, never overwritten: a
    redeploy must not invalidate the page cursors agents have open, nor the links in the
    emails customers are about to receive. Rotation is a deliberate act
    (``rotate-cursor-key``, ``rotate-link-key``).
    """
    from botocore.exceptions import ClientError

    try:
        ssm.put_parameter(
            Name=name,
            Value=_new_key(),
            Type="SecureString",
            Overwrite=False,
            Description=description,
            Tags=[{"Key": "app", "Value": APP_NAME}],
        )
    except ClientError as exc:
        if _error_code(exc) == "ParameterAlreadyExists":
            return False
        raise DeployError(f"could not create {name}: {exc}") from exc
    return True


def rotate_key(ssm: Any, name: str) -> None:
    """Replace a stage key with a new random one (the value is never shown)."""
    ssm.put_parameter(Name=name, Value=_new_key(), Type="SecureString", Overwrite=True)


def store_anthropic_key(ssm: Any, name: str, read_secret: Ask = getpass.getpass) -> None:
    """Prompt for the Anthropic key (not echoed) and store it as a SecureString.

    Typed at a prompt, so it never appears on a command line (``ps``) or in shell history.
    """
    key = read_secret("Anthropic API key (not echoed): ").strip()
    if not key:
        raise DeployError("no key entered: nothing was stored")
    ssm.put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)


def add_agent(cognito: Any, pool_id: str, email: str, read_secret: Ask = getpass.getpass) -> bool:
    """Create an agent (or reset their password) with a permanent password typed at a prompt.

    Returns True when the account was created. The site cannot answer Cognito's
    NEW_PASSWORD_REQUIRED challenge yet, hence a permanent password and a verified email.
    """
    from botocore.exceptions import ClientError

    password = read_secret(f"Password for {email} (12+ characters, upper, lower, digit): ")
    if read_secret("The same password again: ") != password:
        raise DeployError("the two passwords differ: nothing was changed")
    created = False
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    except ClientError as exc:
        if _error_code(exc) != "UserNotFoundException":
            raise DeployError(f"could not look up {email}: {exc}") from exc
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
        created = True
    try:
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=email, Password=password, Permanent=True
        )
    except ClientError as exc:
        raise DeployError(f"password refused ({exc}); run the command again") from exc
    return created


# --------------------------------------------------------------------------- AWS: customer email

# Template parameters without a default: the stack's first deploy must be given the sender
# (`make deploy MAIL_SENDER=...`); later deploys take it from the stack.
MAIL_PARAMETERS = ("MailSender", "MailSenderAddress")
CONFIRMATIONS_PARAMETER = "ConfirmationsPerAddressPerHour"
CONFIRMATIONS_RANGE = (1, 1000)  # chalicelib/settings.py accepts these


@dataclass(frozen=True)
class MailSender:
    """Who customers' emails come from: the From header, and its bare address."""

    header: str  # Support <support@example.com>
    address: str  # support@example.com

    @property
    def domain(self) -> str:
        """The address's domain: the other SES identity that can send for it."""
        return self.address.rpartition("@")[2]

    def parameters(self) -> dict[str, str]:
        """The template parameters this sender sets."""
        return {"MailSender": self.header, "MailSenderAddress": self.address}


def parse_mail_sender(value: str) -> MailSender:
    """``support@example.com`` or ``Support <support@example.com>``; DeployError otherwise."""
    import email.utils

    text = value.strip()
    found = email.utils.getaddresses([text])
    name, address = found[0] if len(found) == 1 else ("", "")
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    valid = (
        bool(text)
        and not any(character in text for character in "\r\n")
        and bool(at and local)
        and len(labels) >= 2
        and all(labels)
        and not any(character.isspace() or character in "<>@" for character in local + domain)
    )
    if not valid:
        raise DeployError(
            f"MAIL_SENDER {value!r} is not an email address: write it as support@example.com "
            'or "Support <support@example.com>"'
        )
    header = email.utils.formataddr((name, address)) if name else address
    return MailSender(header, address)


def resolve_mail_sender(given: str | None, deployed: Mapping[str, str], stage: str) -> MailSender:
    """The sender given on this deploy, else the one the stack was deployed with."""
    if given:
        return parse_mail_sender(given)
    if deployed.get("MailSender"):
        return parse_mail_sender(deployed["MailSender"])
    raise DeployError(
        "the first deploy of a stage needs the sender of customers' emails, an address (or "
        f'domain) verified in SES: make deploy STAGE={stage} MAIL_SENDER="Support '
        '<support@example.com>" (docs/deploy.md, "Customer emails"). Later deploys keep it'
    )


def resolve_confirmations(given: int | None, deployed: Mapping[str, str]) -> str | None:
    """The per-address confirmation limit to deploy: given, else the stack's; None keeps the
    template's default (3)."""
    if given is None:
        return deployed.get(CONFIRMATIONS_PARAMETER)
    low, high = CONFIRMATIONS_RANGE
    if not low <= given <= high:
        raise DeployError(
            f"CONFIRMATIONS_PER_ADDRESS_PER_HOUR must be from {low} to {high}, not {given}"
        )
    return str(given)


ALARM_EMAIL_PARAMETER = "AlarmEmail"
ALARM_EMAIL_NONE = "none"
_BARE_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+")


def resolve_alarm_email(given: str | None, deployed: Mapping[str, str]) -> str | None:
    """The address the alarm topic emails: given (``none`` removes it), else the stack's;
    None keeps the template's default (nobody)."""
    if given is None:
        return deployed.get(ALARM_EMAIL_PARAMETER)
    text = given.strip()
    if text.lower() == ALARM_EMAIL_NONE:
        return ""
    if not _BARE_ADDRESS.fullmatch(text):
        raise DeployError(
            f"ALARM_EMAIL {given!r} is not one bare email address (ops@example.com), "
            f"nor {ALARM_EMAIL_NONE!r}"
        )
    return text


def check_mail_sender(sesv2: Any, sender: MailSender, region: str) -> list[str]:
    """What the operator should know about sending from ``sender`` here (read-only).

    The SES identity that sends for the address is the address itself or its domain; it
    must be verified in the stack's region. An account still in the SES sandbox delivers
    only to verified addresses, so customers would receive nothing.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    notes: list[str] = []
    found: tuple[str, dict[str, Any]] | None = None
    try:
        for candidate in (sender.address, sender.domain):
            try:
                found = (candidate, sesv2.get_email_identity(EmailIdentity=candidate))
                break
            except ClientError as exc:
                if _error_code(exc) != "NotFoundException":
                    raise
        account = sesv2.get_account()
    except (BotoCoreError, ClientError) as exc:
        return [
            f"WARNING: could not check SES in {region} ({_error_code(exc) or exc}): make sure "
            f"{sender.address} or {sender.domain} is a verified identity there "
            "(docs/deploy.md, Customer emails)"
        ]
    if found is None:
        notes.append(
            f"WARNING: neither {sender.address} nor {sender.domain} is an SES identity in "
            f"{region}: no email reaches customers (each is marked 'not delivered') until you "
            "verify one (docs/deploy.md, Customer emails)"
        )
    elif not found[1].get("VerifiedForSendingStatus"):
        status = found[1].get("VerificationStatus", "NOT_VERIFIED")
        notes.append(
            f"WARNING: the SES identity {found[0]} is {status} in {region}: no email reaches "
            "customers until it is verified (an address: the link SES emailed it; a domain: "
            "its DKIM records; docs/deploy.md, Customer emails)"
        )
    else:
        notes.append(f"customer emails come from {sender.header} (SES identity {found[0]})")
    if not account.get("ProductionAccessEnabled"):
        notes.append(
            f"WARNING: this account is in the SES sandbox in {region}: only verified addresses "
            "receive email, so customers get none. Request production access "
            "(docs/deploy.md, Customer emails)"
        )
    if account.get("SendingEnabled") is False:
        notes.append(
            f"WARNING: SES sending is paused for this account in {region} "
            f"({account.get('EnforcementStatus', 'see the SES console')}): no email goes out"
        )
    return notes


# --------------------------------------------------------------------------- AWS: account set-up

APIGATEWAY_LOGS_ROLE = "apigateway-cloudwatch-logs"
_APIGATEWAY_LOGS_POLICY = "iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# Lambda refuses a reservation that leaves fewer unreserved executions than this.
MIN_UNRESERVED_CONCURRENCY = 100


def apigateway_logging_role(session: Any) -> str | None:
    """The region's API Gateway CloudWatch role (an account setting), if one is set."""
    account = session.client("apigateway").get_account()
    role: str | None = account.get("cloudwatchRoleArn") or None
    return role


def ensure_apigateway_logging_role(
    session: Any, sleep: Callable[[float], None] = time.sleep
) -> str:
    """Create the role API Gateway writes access logs with, and set it for the region.

    Access logging to CloudWatch needs it; it is an account setting (one per region), so it
    lives outside the stack: deleting a stack must not break other APIs' logging.
    """
    from botocore.exceptions import ClientError

    iam = session.client("iam")
    try:
        arn: str = iam.get_role(RoleName=APIGATEWAY_LOGS_ROLE)["Role"]["Arn"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchEntity":
            raise DeployError(f"could not read the role {APIGATEWAY_LOGS_ROLE}: {exc}") from exc
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "apigateway.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(
            RoleName=APIGATEWAY_LOGS_ROLE,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="API Gateway writes execution and access logs to CloudWatch Logs",
        )["Role"]["Arn"]
    partition = arn.split(":")[1]
    iam.attach_role_policy(
        RoleName=APIGATEWAY_LOGS_ROLE, PolicyArn=f"arn:{partition}:{_APIGATEWAY_LOGS_POLICY}"
    )
    apigateway = session.client("apigateway")
    attempts = 12
    for attempt in range(attempts):
        try:
            apigateway.update_account(
                patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
            )
            return arn
        except ClientError as exc:
            # A new role takes a few seconds before API Gateway may assume it.
            if _error_code(exc) != "BadRequestException" or attempt == attempts - 1:
                raise DeployError(f"could not set API Gateway's logging role: {exc}") from exc
            sleep(5)
    raise AssertionError("unreachable")


def concurrency_problem(settings: dict[str, Any], wanted: int, held: int) -> str | None:
    """Why the account cannot reserve ``wanted`` executions (``held`` are ours already)."""
    limits = settings["AccountLimit"]
    unreserved = int(limits["UnreservedConcurrentExecutions"])
    left = unreserved + held - wanted
    if wanted <= held or left >= MIN_UNRESERVED_CONCURRENCY:
        return None
    return (
        f"this account may run {limits['ConcurrentExecutions']} Lambda executions at once "
        f"({unreserved} unreserved); reserving {wanted} for the stage would leave {left}, and "
        f"Lambda keeps at least {MIN_UNRESERVED_CONCURRENCY} unreserved. Ask for a higher "
        "'Concurrent executions' quota (Service Quotas, AWS Lambda; new accounts start "
        "low), or deploy without the cap: --no-reserved-concurrency (the stage throttle and "
        "the WAF limits still apply)"
    )


_RESERVED_PARAMETERS = {
    "APIHandler": "ApiReservedConcurrency",
    "AgentAuthorizer": "AuthorizerReservedConcurrency",
    "Stream": "StreamReservedConcurrency",
}


def _held_concurrency(session: Any, name: str) -> int:
    """Executions the stack's functions reserve today (they return to the pool on update)."""
    from botocore.exceptions import ClientError

    cloudformation = session.client("cloudformation")
    lambda_client = session.client("lambda")
    held = 0
    for logical_id in _RESERVED_PARAMETERS:
        try:
            resource = cloudformation.describe_stack_resource(
                StackName=name, LogicalResourceId=logical_id
            )["StackResourceDetail"]
        except ClientError:
            continue
        reserved = lambda_client.get_function_concurrency(
            FunctionName=resource["PhysicalResourceId"]
        )
        held += int(reserved.get("ReservedConcurrentExecutions", 0))
    return held


# --------------------------------------------------------------------------- AWS: the stack


def _stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    stack: dict[str, Any] = stacks[0]
    return stack


@dataclass(frozen=True)
class NextStep:
    """What a deploy does to the stack as it finds it."""

    change_set_type: str  # CREATE or UPDATE
    before: str | None  # "delete" or "continue-rollback", done first
    description: str


_UPDATABLE = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


def next_step(stage: str, status: str | None) -> NextStep:
    """How a deploy continues from the stack's status, or exactly what the operator must do."""
    name = stack_name(stage)
    if status is None:
        return NextStep("CREATE", None, f"create the stack {name}")
    if status == "REVIEW_IN_PROGRESS":
        return NextStep("CREATE", None, f"create the stack {name} (prepared earlier, never run)")
    if status in _UPDATABLE:
        return NextStep("UPDATE", None, f"update the stack {name} ({status})")
    if status == "ROLLBACK_COMPLETE":
        return NextStep(
            "CREATE",
            "delete",
            f"delete {name}, which a failed first create left empty (ROLLBACK_COMPLETE), "
            "then create it again",
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        return NextStep(
            "UPDATE",
            "continue-rollback",
            f"finish the rollback CloudFormation could not complete (UPDATE_ROLLBACK_FAILED), "
            f"then update {name}",
        )
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(
            f"stack {name} is {status}: another operation is running. Wait until it ends "
            f"(CloudFormation console: {name}, Events), then run the deploy again; it "
            "continues from the state that operation leaves"
        )
    if status in ("ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"):
        raise DeployError(
            f"stack {name} is {status}: it cannot be updated. Run `make destroy STAGE={stage}` "
            "(it deletes what is left and names anything it keeps), then deploy again"
        )
    raise DeployError(
        f"stack {name} is {status}, which this tool does not handle: see its events in the "
        "CloudFormation console (docs/deploy.md, 'When a deploy fails')"
    )


def change_set_name(stack: str) -> str:
    """A name used once: a failed change set can never block the next run's."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stack}-{stamp}-{secrets.token_hex(3)}"


def delete_failed_change_sets(cloudformation: Any, name: str) -> list[str]:
    """Delete the stack's FAILED change sets (left by an interrupted run); their names."""
    from botocore.exceptions import ClientError

    deleted: list[str] = []
    token: str | None = None
    while True:
        try:
            page = cloudformation.list_change_sets(
                StackName=name, **({"NextToken": token} if token else {})
            )
        except ClientError as exc:
            if "does not exist" in str(exc):
                return deleted
            raise
        for summary in page.get("Summaries", []):
            if summary.get("Status") == "FAILED":
                cloudformation.delete_change_set(ChangeSetName=summary["ChangeSetId"])
                deleted.append(summary["ChangeSetName"])
        token = page.get("NextToken")
        if not token:
            return deleted


@dataclass(frozen=True)
class ChangeSet:
    """One change set to run: its kind, template and parameter overrides."""

    stack: str
    change_set_type: str  # CREATE, UPDATE or IMPORT
    template_url: str | None = None
    template_body: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    resources_to_import: tuple[dict[str, Any], ...] = ()


_STACK_WAITERS = {
    "CREATE": "stack_create_complete",
    "UPDATE": "stack_update_complete",
    "IMPORT": "stack_import_complete",
}


def run_change_set(cloudformation: Any, change: ChangeSet, delay: int = 5) -> bool:
    """Create, execute and wait for a change set; False when there was nothing to change."""
    from botocore.exceptions import ClientError, WaiterError  # type: ignore[import-untyped]

    name = change_set_name(change.stack)
    request: dict[str, Any] = {
        "StackName": change.stack,
        "ChangeSetName": name,
        "ChangeSetType": change.change_set_type,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "app", "Value": APP_NAME}],
    }
    if change.template_url:
        request["TemplateURL"] = change.template_url
    else:
        request["TemplateBody"] = change.template_body
    if change.parameters:
        request["Parameters"] = [
            {"ParameterKey": key, "ParameterValue": value}
            for key, value in sorted(change.parameters.items())
        ]
    if change.change_set_type == "CREATE":
        # A failed first create deletes the stack rather than leaving it ROLLBACK_COMPLETE,
        # so running the deploy again simply creates it again.
        request["OnStackFailure"] = "DELETE"
    if change.resources_to_import:
        request["ResourcesToImport"] = list(change.resources_to_import)
    try:
        created = cloudformation.create_change_set(**request)
    except ClientError as exc:
        raise DeployError(f"CloudFormation refused the change set: {exc}") from exc
    change_set_id, stack_id = created["Id"], created["StackId"]
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set_id, WaiterConfig={"Delay": delay, "MaxAttempts": 120}
        )
    except WaiterError as exc:
        reason = cloudformation.describe_change_set(ChangeSetName=change_set_id).get(
            "StatusReason", ""
        )
        # Deleted either way, so it never lingers in the stack's list.
        cloudformation.delete_change_set(ChangeSetName=change_set_id)
        if "didn't contain changes" in reason or "No updates" in reason:
            return False
        raise DeployError(f"change set {name} failed: {reason}") from exc
    print(f"Executing change set {name} ({change.change_set_type})")
    # Events older than this belong to earlier operations (a little slack for clock skew).
    started = datetime.now(UTC) - timedelta(minutes=5)
    cloudformation.execute_change_set(ChangeSetName=change_set_id)
    try:
        # A new CloudFront distribution alone can take 5-15 minutes.
        cloudformation.get_waiter(_STACK_WAITERS[change.change_set_type]).wait(
            StackName=stack_id, WaiterConfig={"Delay": delay * 3, "MaxAttempts": 240}
        )
    except WaiterError as exc:
        raise DeployError(failure_report(cloudformation, change, stack_id, started)) from exc
    return True


def failure_report(
    cloudformation: Any, change: ChangeSet, stack_id: str, since: datetime | None = None
) -> str:
    """Why a stack operation failed, what state it left, and what to do next.

    The first failures of the operation (after ``since``) come first: later ones are
    mostly "Resource update cancelled" echoes of the first.
    """
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    reasons = [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in reversed(events)
        if str(event.get("ResourceStatus", "")).endswith("_FAILED")
        and event.get("ResourceStatusReason")
        and (since is None or event["Timestamp"] >= since)
    ][:5]
    status = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
    if status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
        outcome = "the first create failed and was undone: fix the cause, then deploy again"
    elif status == "UPDATE_ROLLBACK_COMPLETE":
        outcome = (
            "the update failed and was rolled back (the previous version still runs): "
            "fix the cause, then deploy again"
        )
    elif status == "UPDATE_ROLLBACK_FAILED":
        outcome = (
            "the update failed and so did its rollback: deploy again, and the tool "
            "continues the rollback first"
        )
    else:
        outcome = f"the stack is {status}: deploy again for the way out"
    text = f"stack {change.stack} ({change.change_set_type}): {outcome}"
    if reasons:
        text += "\n  " + "\n  ".join(reasons)
    if any("verif" in reason.lower() and "cloudfront" in reason.lower() for reason in reasons):
        text += (
            "\n  A new account must be verified before it may create CloudFront "
            "distributions: open a case with AWS Support (docs/deploy.md, Prerequisites)"
        )
    return text


def continue_rollback(cloudformation: Any, name: str, region: str, delay: int = 15) -> None:
    """Finish an update's failed rollback; say exactly what to skip when it fails again."""
    from botocore.exceptions import WaiterError

    print(f"Continuing the rollback of {name}")
    cloudformation.continue_update_rollback(StackName=name)
    try:
        cloudformation.get_waiter("stack_rollback_complete").wait(
            StackName=name, WaiterConfig={"Delay": delay, "MaxAttempts": 240}
        )
    except WaiterError as exc:
        resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        stuck = [r for r in resources if r.get("ResourceStatus") == "UPDATE_FAILED"]
        why = "; ".join(
            f"{r['LogicalResourceId']}: {r.get('ResourceStatusReason', '')}" for r in stuck
        )
        skip = " ".join(r["LogicalResourceId"] for r in stuck) or "<LogicalResourceId>"
        raise DeployError(
            f"CloudFormation still cannot roll back {name} ({why or 'see its events'}). If "
            "those resources are fine as they are, or you removed them by hand, skip them: "
            f"aws cloudformation continue-update-rollback --region {region} --stack-name {name} "
            f"--resources-to-skip {skip}; wait for UPDATE_ROLLBACK_COMPLETE, then deploy again"
        ) from exc


def delete_empty_stack(cloudformation: Any, name: str, delay: int = 15) -> None:
    """Delete a stack a failed create left behind (ROLLBACK_COMPLETE holds no resources)."""
    from botocore.exceptions import WaiterError

    print(f"Deleting {name}, left by a failed create")
    cloudformation.delete_stack(StackName=name)
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": delay, "MaxAttempts": 120}
        )
    except WaiterError as exc:
        raise DeployError(f"could not delete {name}: see its events, then deploy again") from exc


# --------------------------------------------------------------------------- AWS: retained data

# Resources prod keeps when its stack goes (infra/stages/prod.yaml), adopted back on request.
RETAINED_LOGICAL_IDS = ("TicketsTable", "AgentUserPool")


@dataclass(frozen=True)
class Retained:
    """A table and user pools left by an earlier stack of the stage (names as it made them)."""

    table: str | None
    user_pools: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.table is not None or bool(self.user_pools)

    def describe(self) -> str:
        """One line naming what was found."""
        found = [f"table {self.table}"] if self.table else []
        found += [f"user pool {pool_id}" for pool_id in self.user_pools]
        return ", ".join(found)


def find_retained(session: Any, stage: str) -> Retained:
    """The stage's table and agents' pools that exist outside any stack of this name."""
    from botocore.exceptions import ClientError

    table: str | None = f"{APP_NAME}-{stage}"
    try:
        session.client("dynamodb").describe_table(TableName=table)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        table = None
    cognito = session.client("cognito-idp")
    pools: list[str] = []
    token: str | None = None
    while True:
        page = cognito.list_user_pools(MaxResults=60, **({"NextToken": token} if token else {}))
        pools += [p["Id"] for p in page["UserPools"] if p["Name"] == f"{APP_NAME}-{stage}-agents"]
        token = page.get("NextToken")
        if not token:
            return Retained(table, tuple(pools))


def retained_instructions(stage: str, region: str, retained: Retained) -> str:
    """What to do when a new stack would collide with the stage's retained data."""
    lines = [
        f"{retained.describe()} from an earlier {stack_name(stage)} stack still exist in {region}.",
        "To keep the tickets and the agents, adopt them into the new stack: add --import-retained "
        "(CloudFormation resource import, then the usual update).",
        "To start empty instead, delete them first (this destroys the data):",
    ]
    if retained.table:
        lines += [
            f"  aws dynamodb update-table --region {region} --table-name {retained.table} "
            "--no-deletion-protection-enabled",
            f"  aws dynamodb delete-table --region {region} --table-name {retained.table}",
        ]
    for pool_id in retained.user_pools:
        lines += [
            f"  aws cognito-idp update-user-pool --region {region} --user-pool-id {pool_id} "
            "--deletion-protection INACTIVE   (this resets unspecified pool settings; fine "
            "before a delete)",
            f"  aws cognito-idp delete-user-pool --region {region} --user-pool-id {pool_id}",
        ]
    return "\n".join(lines)


def import_template(template: dict[str, Any], retained: Retained) -> dict[str, Any]:
    """A plain template of only the retained resources, for a CloudFormation IMPORT.

    An import may not create anything, so the template holds just what is adopted (with
    the Retain policy CloudFormation requires); the normal update then adds the rest.
    """
    wanted = [
        logical_id
        for logical_id, found in (
            ("TicketsTable", retained.table),
            ("AgentUserPool", retained.user_pools),
        )
        if found
    ]
    resources = {
        logical_id: {
            **copy.deepcopy(template["Resources"][logical_id]),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
        for logical_id in wanted
    }
    # Parameters without a default (the mail sender) would have to be given to the import,
    # and neither adopted resource uses them.
    parameters = {
        name: copy.deepcopy(spec)
        for name, spec in template["Parameters"].items()
        if "Default" in spec
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Adopt the retained table and user pool (tools/deploy.py --import-retained)",
        "Parameters": parameters,
        "Conditions": copy.deepcopy(template.get("Conditions", {})),
        "Resources": resources,
    }


def resources_to_import(retained: Retained) -> tuple[dict[str, Any], ...]:
    """CloudFormation's identifiers of the retained resources."""
    found: list[dict[str, Any]] = []
    if retained.table:
        found.append(
            {
                "ResourceType": "AWS::DynamoDB::Table",
                "LogicalResourceId": "TicketsTable",
                "ResourceIdentifier": {"TableName": retained.table},
            }
        )
    for pool_id in retained.user_pools:
        found.append(
            {
                "ResourceType": "AWS::Cognito::UserPool",
                "LogicalResourceId": "AgentUserPool",
                "ResourceIdentifier": {"UserPoolId": pool_id},
            }
        )
    return tuple(found)


# --------------------------------------------------------------------------- deploy / destroy


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """A stack's Outputs as a dict."""
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


@dataclass(frozen=True)
class DeployOptions:
    """The operator's choices for one deploy."""

    artifacts_bucket: str | None = None
    assume_yes: bool = False
    import_retained: bool = False
    reserved_concurrency: bool = True
    mail_sender: str | None = None  # required on a stack's first deploy, then remembered
    confirmations_per_hour: int | None = None  # None: the stack's value, else 3
    alarm_email: str | None = None  # None: the stack's value, else nobody; "none" removes it


@dataclass(frozen=True)
class Preparation:
    """Everything a deploy found out before changing anything, and what it will do."""

    stage: str
    target: Target
    step: NextStep
    retained: Retained
    parameters: dict[str, str]  # overrides of the template's defaults, every change set
    protect_after_create: bool
    logging_role: str | None
    keys: tuple[tuple[str, str], ...]  # (SSM name, description) of the stage keys to ensure
    notes: list[str]

    @property
    def stack(self) -> str:
        """The stack's name."""
        return stack_name(self.stage)


def _check_retained(stage: str, target: Target, step: NextStep, options: DeployOptions) -> Retained:
    if step.change_set_type != "CREATE":
        return Retained(None, ())
    retained = find_retained(target.session, stage)
    if retained and not options.import_retained:
        raise DeployError(retained_instructions(stage, target.region, retained))
    if len(retained.user_pools) > 1:
        raise DeployError(
            f"several user pools are named {APP_NAME}-{stage}-agents "
            f"({', '.join(retained.user_pools)}): delete the ones you do not want to keep "
            "(docs/deploy.md, 'Deploying prod again'), then deploy again"
        )
    return retained


def _concurrency_overrides(
    stage: str, target: Target, step: NextStep, defaults: dict[str, Any], options: DeployOptions
) -> dict[str, str]:
    if not options.reserved_concurrency:
        return {parameter: "0" for parameter in _RESERVED_PARAMETERS.values()}
    wanted = sum(int(defaults[p]["Default"]) for p in _RESERVED_PARAMETERS.values())
    updating = step.change_set_type == "UPDATE"
    held = _held_concurrency(target.session, stack_name(stage)) if updating else 0
    settings = target.session.client("lambda").get_account_settings()
    problem = concurrency_problem(settings, wanted, held)
    if problem:
        raise DeployError(problem)
    return {}


def _deployed_parameters(stack: dict[str, Any] | None) -> dict[str, str]:
    """The parameter values the stack runs with (empty for a stack that is not there)."""
    if stack is None:
        return {}
    return {
        item["ParameterKey"]: item["ParameterValue"]
        for item in stack.get("Parameters", [])
        if "ParameterValue" in item
    }


def prepare_deploy(
    stage: str, template: dict[str, Any], target: Target, options: DeployOptions
) -> Preparation:
    """Read the account's state (no changes) and decide every step, or say why not."""
    cloudformation = target.session.client("cloudformation")
    stack = _stack(cloudformation, stack_name(stage))
    step = next_step(stage, None if stack is None else str(stack["StackStatus"]))
    notes = [step.description]
    # A stack being re-created after a failed create still names what it was given.
    deployed = _deployed_parameters(stack)
    sender = resolve_mail_sender(options.mail_sender, deployed, stage)
    confirmations = resolve_confirmations(options.confirmations_per_hour, deployed)
    alarm_email = resolve_alarm_email(options.alarm_email, deployed)
    retained = _check_retained(stage, target, step, options)
    if retained:
        notes.append(f"adopt {retained.describe()} into the new stack (resource import)")
    defaults = template["Parameters"]
    parameters = _concurrency_overrides(stage, target, step, defaults, options)
    if parameters:
        notes.append("no reserved concurrency (--no-reserved-concurrency)")
    parameters.update(sender.parameters())
    if confirmations is not None:
        parameters[CONFIRMATIONS_PARAMETER] = confirmations
    limit = confirmations or defaults[CONFIRMATIONS_PARAMETER]["Default"]
    notes.append(f"at most {limit} confirmation emails per address per hour")
    if alarm_email is not None:
        parameters[ALARM_EMAIL_PARAMETER] = alarm_email
    notify = alarm_email if alarm_email is not None else defaults[ALARM_EMAIL_PARAMETER]["Default"]
    notes.append(
        f"alarms notify the topic {APP_NAME}-{stage}-alarms and email {notify} (SNS first asks "
        "the address to confirm)"
        if notify
        else f"alarms notify the topic {APP_NAME}-{stage}-alarms, which emails nobody "
        "(ALARM_EMAIL=ops@example.com subscribes an address)"
    )
    protect_after_create = (
        step.change_set_type == "CREATE"
        and not retained
        and defaults["DataDeletionProtection"]["Default"] == "true"
    )
    if protect_after_create:
        notes.append(
            "create without deletion protection (a failed create rolls back cleanly), then "
            "switch it on with a second change set"
        )
    logging_role = apigateway_logging_role(target.session)
    if logging_role is None:
        notes.append(
            f"create the IAM role {APIGATEWAY_LOGS_ROLE} and make it API Gateway's CloudWatch "
            f"role in {target.region} (an account setting; needed for access logs)"
        )
    ssm = target.session.client("ssm")
    keys = tuple((str(defaults[key.parameter]["Default"]), key.description) for key in STAGE_KEYS)
    for name, description in keys:
        if not parameter_exists(ssm, name):
            notes.append(f"create {name} (random, SecureString): {description.split(' (')[0]}")
    anthropic_parameter = str(defaults["AnthropicKeyParameterName"]["Default"])
    if not parameter_exists(ssm, anthropic_parameter):
        notes.append(
            f"WARNING: no {anthropic_parameter} in {target.region}: suggestions come from the "
            "offline classifier until you run "
            f"`.venv/bin/python -m tools.deploy set-anthropic-key --stage {stage}`"
        )
    notes += check_mail_sender(target.session.client("sesv2"), sender, target.region)
    if stage == "prod":
        notes.append("turn on termination protection")
    return Preparation(
        stage,
        target,
        step,
        retained,
        parameters,
        protect_after_create,
        logging_role,
        keys,
        notes,
    )


def apply_stack(prepared: Preparation, template: dict[str, Any], template_url: str) -> None:
    """Every CloudFormation step the preparation decided, in order."""
    cloudformation = prepared.target.session.client("cloudformation")
    name = prepared.stack
    for leftover in delete_failed_change_sets(cloudformation, name):
        print(f"Deleted the failed change set {leftover}")
    if prepared.step.before == "delete":
        delete_empty_stack(cloudformation, name)
    elif prepared.step.before == "continue-rollback":
        continue_rollback(cloudformation, name, prepared.target.region)
    change_set_type = prepared.step.change_set_type
    if prepared.retained:
        body = json.dumps(import_template(template, prepared.retained))
        to_import = resources_to_import(prepared.retained)
        run_change_set(
            cloudformation,
            ChangeSet(name, "IMPORT", template_body=body, resources_to_import=to_import),
        )
        change_set_type = "UPDATE"
    first = dict(prepared.parameters)
    if prepared.protect_after_create:
        first["DataDeletionProtection"] = "false"
    changed = run_change_set(
        cloudformation, ChangeSet(name, change_set_type, template_url, parameters=first)
    )
    if prepared.protect_after_create:
        print("Switching on deletion protection for the table and the user pool")
        run_change_set(
            cloudformation,
            ChangeSet(name, "UPDATE", template_url, parameters=prepared.parameters),
        )
    elif not changed:
        print("The stack is already up to date")
    if prepared.stage == "prod":
        cloudformation.update_termination_protection(
            EnableTerminationProtection=True, StackName=name
        )


def publish_site(target: Target, name: str, site_dir: Path) -> dict[str, str]:
    """Upload the site for the stack's outputs and invalidate CloudFront; the outputs."""
    outputs = stack_outputs(target.session.client("cloudformation"), name)
    site_config = SiteConfig.from_stack_outputs(outputs, target.region)
    s3 = target.session.client("s3")
    keys = upload_site(s3, outputs["SiteBucket"], site_dir, site_config)
    print(f"Uploaded {len(keys)} site files to s3://{outputs['SiteBucket']}")
    target.session.client("cloudfront").create_invalidation(
        DistributionId=outputs["DistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": hashlib.sha256(",".join(keys).encode()).hexdigest()[:32],
        },
    )
    return outputs


def deploy(
    stage: str,
    options: DeployOptions | None = None,
    site_dir: Path = SITE_DIR,
    ask: Ask = input,
) -> None:
    """Plan, confirm, apply the stack, publish the site, invalidate CloudFront, print the URLs."""
    options = options or DeployOptions()
    result = plan(stage)
    template = result.template()
    target = aws_target()
    prepared = prepare_deploy(stage, template, target, options)
    print(f"Deploying {stage} to {target}")
    for note in prepared.notes:
        print(f"  - {note}")
    confirm(
        f"Deploy {prepared.stack} to account {target.account} in {target.region}?",
        assume_yes=options.assume_yes,
        ask=ask,
    )
    session = target.session
    bucket = _ensure_artifacts_bucket(session, options.artifacts_bucket)
    template_url, code_uri = _upload_artifacts(session, bucket, result)
    print(f"Uploaded {code_uri}")
    for name, description in prepared.keys:
        if ensure_key(session.client("ssm"), name, description):
            print(f"Created {name} (SecureString; the value is not shown)")
    if prepared.logging_role is None:
        ensure_apigateway_logging_role(session)
    apply_stack(prepared, template, template_url)
    outputs = publish_site(target, prepared.stack, site_dir)
    print(f"Site: {outputs['SiteUrl']}")
    print(f"API:  {outputs['ApiUrl']}")


def _retained_resources(cloudformation: Any, name: str) -> list[str]:
    """Resources the stack keeps when deleted, with their physical ids."""
    from botocore.exceptions import ClientError

    try:
        deployed = cloudformation.get_template(StackName=name, TemplateStage="Processed")
    except ClientError:
        return []  # never created (a change set prepared, not run): nothing to keep
    body = deployed["TemplateBody"]
    template = json.loads(body) if isinstance(body, str) else body
    physical = {
        item["LogicalResourceId"]: item.get("PhysicalResourceId", "?")
        for item in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    }
    return [
        f"{logical} ({resource['Type']}): {physical[logical]}"
        for logical, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
        and logical in physical
    ]


def destroy(stage: str, assume_yes: bool = False, ask: Ask = input) -> None:
    """Confirm, empty the site bucket, delete the stack, and name what was retained.

    Prod asks for the stack's name to be typed, whatever ``assume_yes`` says, and lifts
    its termination protection only after that.
    """
    from botocore.exceptions import WaiterError

    _check_stage(stage)
    target = aws_target()
    session = target.session
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    stack = _stack(cloudformation, name)
    if stack is None:
        print(f"No stack {name} in {target.region}: nothing to do")
        return
    status = str(stack["StackStatus"])
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(
            f"stack {name} is {status}: wait until that operation ends, then run destroy again"
        )
    retained = _retained_resources(cloudformation, name)
    print(f"Destroying {name} in {target}")
    for line in retained:
        print(f"  - keeps {line}")
    if stage == "prod":
        confirm_stack_name(name, ask)
    else:
        confirm(f"Delete the stack {name} and its data?", assume_yes=assume_yes, ask=ask)
    outputs = stack_outputs(cloudformation, name)
    if "SiteBucket" in outputs:
        count = empty_bucket(session.client("s3"), outputs["SiteBucket"])
        print(f"Emptied s3://{outputs['SiteBucket']} ({count} objects)")
    if stack.get("EnableTerminationProtection"):
        cloudformation.update_termination_protection(
            EnableTerminationProtection=False, StackName=name
        )
    cloudformation.delete_stack(StackName=name)
    print(f"Deleting stack {name}")
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
        )
    except WaiterError as exc:
        raise DeployError(
            f"stack {name} was not deleted: see its events, then run destroy again"
        ) from exc
    print(f"Deleted stack {name}")
    for line in retained:
        print(f"Retained (delete it yourself if you mean to): {line}")
    if retained:
        print(
            f"`make deploy STAGE={stage}` finds them and can adopt them into a new stack "
            "(--import-retained): docs/deploy.md, 'Deploying prod again'"
        )
    print(
        "Not managed by the stack and left in place: the SSM parameters "
        f"{stage_default(stage, 'AnthropicKeyParameterName')}, "
        f"{stage_default(stage, 'CursorKeyParameterName')} and "
        f"{stage_default(stage, 'LinkKeyParameterName')}, the SES identity of the sender, the "
        "artifacts bucket, and the account's API Gateway logging role"
    )


# --------------------------------------------------------------------------- CLI


def _with_target(stage: str) -> Target:
    target = aws_target()
    print(f"Stage {stage}: {target}")
    return target


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        choices=(
            "plan",
            "deploy",
            "destroy",
            "set-anthropic-key",
            "add-agent",
            *(key.rotate_command for key in STAGE_KEYS),
        ),
    )
    parser.add_argument(
        "--stage", choices=STAGES, action="append", help="dev or prod (plan accepts several)"
    )
    parser.add_argument("--artifacts-bucket", help="S3 bucket for the package and template")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing AWS")
    parser.add_argument(
        "--import-retained",
        action="store_true",
        help="adopt the table and user pool an earlier stack of the stage left behind",
    )
    parser.add_argument(
        "--no-reserved-concurrency",
        action="store_true",
        help="deploy without the functions' concurrency cap (accounts with a low quota)",
    )
    parser.add_argument("--email", help="the agent's email (add-agent)")
    parser.add_argument(
        "--mail-sender",
        help='From of customers\' emails, "Support <support@example.com>" (deploy; required '
        "on a stage's first deploy, remembered afterwards)",
    )
    parser.add_argument(
        "--confirmations-per-hour",
        type=int,
        help="confirmation emails one address may receive per hour (deploy; default 3, "
        "remembered afterwards)",
    )
    parser.add_argument(
        "--alarm-email",
        help="an address the alarms' SNS topic emails (deploy; remembered afterwards; "
        f"{ALARM_EMAIL_NONE!r} removes it)",
    )
    args = parser.parse_args(argv)
    stages: list[str] = args.stage or ["dev"]
    if args.command != "plan" and len(stages) > 1:
        parser.error(f"{args.command} takes one --stage")
    if args.command == "add-agent" and not args.email:
        parser.error("add-agent needs --email")
    stage = stages[0]

    def set_anthropic_key() -> None:
        target = _with_target(stage)
        name = stage_default(stage, "AnthropicKeyParameterName")
        store_anthropic_key(target.session.client("ssm"), name)
        print(f"Stored {name} in {target.region} (SecureString; the value is not shown)")

    def new_agent() -> None:
        target = _with_target(stage)
        outputs = stack_outputs(target.session.client("cloudformation"), stack_name(stage))
        created = add_agent(
            target.session.client("cognito-idp"), outputs["AgentUserPoolId"], args.email
        )
        print(f"{'Created' if created else 'Reset the password of'} {args.email}")

    def rotate(key: StageKey) -> None:
        target = _with_target(stage)
        name = stage_default(stage, key.parameter)
        confirm(f"Replace {name}? {key.rotation_effect}", assume_yes=args.yes)
        rotate_key(target.session.client("ssm"), name)
        print(f"Rotated {name} (the value is not shown)")

    commands: dict[str, Callable[[], object]] = {
        "plan": lambda: plan_and_audit(stages),
        "deploy": lambda: deploy(
            stage,
            DeployOptions(
                artifacts_bucket=args.artifacts_bucket,
                assume_yes=args.yes,
                import_retained=args.import_retained,
                reserved_concurrency=not args.no_reserved_concurrency,
                mail_sender=args.mail_sender,
                confirmations_per_hour=args.confirmations_per_hour,
                alarm_email=args.alarm_email,
            ),
        ),
        "destroy": lambda: destroy(stage, assume_yes=args.yes),
        "set-anthropic-key": set_anthropic_key,
        "add-agent": new_agent,
        **{key.rotate_command: functools.partial(rotate, key) for key in STAGE_KEYS},
    }
    try:
        commands[args.command]()
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
