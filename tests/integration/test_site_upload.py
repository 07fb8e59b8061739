"""Publishing static-site/ to S3 (tools.deploy.upload_site), against a real moto server."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import requests

from local_stack.cognito import AgentPool
from local_stack.stack import site_config
from tools import deploy
from tools.deploy import IMMUTABLE, NO_CACHE, SiteConfig, empty_bucket, upload_site

PROJECT_DIR = Path(__file__).resolve().parents[2]
API_URL = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/api"
COGNITO_ENDPOINT = "https://cognito-idp.eu-west-1.amazonaws.com/"
CLIENT_ID = "4tq8n2cbc1example0client0id"
# The stack outputs `deploy` reads after the change set (region: the stack's).
OUTPUTS = {
    "ApiUrl": API_URL,
    "AgentSignInEndpoint": COGNITO_ENDPOINT,
    "AgentUserPoolClientId": CLIENT_ID,
    "SiteBucket": "ignored-here",
}
CONFIG = SiteConfig.from_stack_outputs(OUTPUTS, "eu-west-1")
INDEX = """<!doctype html>
<html><head>
<link rel="stylesheet" href="css/app.css">
<link rel="icon" href="data:,">
<script src="config.js"></script>
<script type="module" src="./js/main.js"></script>
</head><body><a href="#/new">New</a><a href="https://example.org/x.js">x</a></body></html>
"""


@pytest.fixture
def s3(aws: str) -> Any:
    """An S3 client on the moto server."""
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"site-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def head(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    response: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
    return response


def read(s3: Any, bucket: str, key: str) -> str:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode()


def listed(s3: Any, bucket: str) -> set[str]:
    return {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small site shaped like static-site/, plus files that must not be published.

    Its own index.html is published as is: tools/site_build.py (when present) renders the
    repository's index.html, which these tests do not pin down.
    """
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "js" / "views").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "css" / "app.css").write_text("body { margin: 0 }\n")
    (root / "js" / "main.js").write_text('import { store } from "./store.js";\n')
    (root / "js" / "store.js").write_text("export const store = {};\n")
    (root / "js" / "views" / "list.js").write_text("export {};\n")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "config.js").write_text("window.SUPPORT_DESK_CONFIG = {apiBaseUrl: 'local'};\n")
    (root / ".DS_Store").write_bytes(b"\0")
    (root / "js" / "views" / "__init__.py").write_text("")
    monkeypatch.setattr(deploy, "_index_html", lambda _site_dir, _api, _others: INDEX)
    return root


def test_upload_publishes_assets_under_a_hashed_prefix_with_long_cache(
    s3: Any, bucket: str, site: Path
) -> None:
    # Given a site directory and an empty bucket
    # When the site is uploaded
    keys = upload_site(s3, bucket, site, CONFIG)
    # Then every asset is under assets/<hash>/, cached for a year, with its content type
    version = deploy.site_version(site)
    prefix = f"assets/{version}"
    expected_types = {
        "css/app.css": "text/css; charset=utf-8",
        "js/main.js": "text/javascript; charset=utf-8",
        "js/store.js": "text/javascript; charset=utf-8",
        "js/views/list.js": "text/javascript; charset=utf-8",
        "favicon.svg": "image/svg+xml",
    }
    for path, content_type in expected_types.items():
        meta = head(s3, bucket, f"{prefix}/{path}")
        assert meta["ContentType"] == content_type, path
        assert meta["CacheControl"] == IMMUTABLE, path
    # And index.html and config.js are at the root, never cached without revalidation
    for key, content_type in (
        ("index.html", "text/html; charset=utf-8"),
        ("config.js", "text/javascript; charset=utf-8"),
    ):
        meta = head(s3, bucket, key)
        assert (meta["ContentType"], meta["CacheControl"]) == (content_type, NO_CACHE), key
    # And nothing else was written: no local config.js, dotfile or Python file as an asset
    assert (
        listed(s3, bucket)
        == set(keys)
        == {
            *(f"{prefix}/{path}" for path in expected_types),
            "index.html",
            "config.js",
        }
    )
    # And the root files come last, so no index names an asset not yet uploaded
    assert keys[-2:] == ["config.js", "index.html"]


def test_config_js_holds_the_api_url_and_the_agents_sign_in(
    s3: Any, bucket: str, site: Path
) -> None:
    # Given the stack's outputs, with an API URL ending in a slash (as CloudFormation's
    # EndpointURL has)
    config = SiteConfig.from_stack_outputs({**OUTPUTS, "ApiUrl": API_URL + "/"}, "eu-west-1")
    # When the site is uploaded
    upload_site(s3, bucket, site, config)
    # Then config.js defines the frozen config: the API URL ending in /api, and the Cognito
    # endpoint, region and app client the site signs agents in with (the same shape the
    # local stack writes)
    text = read(s3, bucket, "config.js")
    match = re.fullmatch(
        r"window\.SUPPORT_DESK_CONFIG = Object\.freeze\((.*)\);\n", text, flags=re.DOTALL
    )
    assert match, text
    assert json.loads(match.group(1)) == {
        "apiBaseUrl": API_URL,
        "cognito": {
            "endpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
            "region": "eu-west-1",
            "clientId": CLIENT_ID,
        },
    }


def test_config_js_has_the_local_stacks_shape(agent_pool: AgentPool) -> None:
    # Given what `make run` writes into config.js and what a deploy writes
    local = site_config("http://127.0.0.1:8000/api", agent_pool)
    deployed = CONFIG.config_js_values()
    # Then the site reads the same keys in both
    assert local.keys() == deployed.keys()
    local_cognito = local["cognito"]
    assert isinstance(local_cognito, dict)
    assert local_cognito.keys() == deployed["cognito"].keys()


def test_index_html_points_at_the_hashed_assets(s3: Any, bucket: str, site: Path) -> None:
    # Given a site whose index names css/app.css and ./js/main.js
    # When it is uploaded
    upload_site(s3, bucket, site, CONFIG)
    html = read(s3, bucket, "index.html")
    prefix = f"assets/{deploy.site_version(site)}"
    # Then those references point at the uploaded copies
    assert f'href="{prefix}/css/app.css"' in html
    assert f'src="{prefix}/js/main.js"' in html
    # And config.js, fragments, data: and external URLs are left alone
    assert 'src="config.js"' in html
    assert 'href="#/new"' in html and 'href="data:,"' in html
    assert 'href="https://example.org/x.js"' in html
    # And every local reference resolves to an object in the bucket
    keys = listed(s3, bucket)
    for ref in re.findall(r'(?:src|href)="([^"#:]+)"', html):
        assert ref in keys, ref


def test_a_changed_asset_gets_new_urls(s3: Any, bucket: str, site: Path) -> None:
    # Given a published site
    upload_site(s3, bucket, site, CONFIG)
    first = deploy.site_version(site)
    # When one asset changes and the site is published again
    (site / "js" / "store.js").write_text("export const store = { v: 2 };\n")
    upload_site(s3, bucket, site, CONFIG)
    # Then browsers holding the old immutable copies are sent to new URLs
    second = deploy.site_version(site)
    assert second != first
    assert f"assets/{second}/js/main.js" in read(s3, bucket, "index.html")
    assert "v: 2" in read(s3, bucket, f"assets/{second}/js/store.js")


def test_objects_are_served_with_their_headers(s3: Any, bucket: str, site: Path) -> None:
    # Given the uploaded site on moto (a private bucket, read here with a signed URL as
    # CloudFront's origin access control reads it)
    upload_site(s3, bucket, site, CONFIG)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "index.html"}, ExpiresIn=60
    )
    # When index.html is fetched over HTTP
    response = requests.get(url, timeout=5)
    # Then it arrives as HTML that must be revalidated
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == NO_CACHE


def test_the_real_site_uploads_completely(s3: Any, bucket: str, tmp_path: Path) -> None:
    # Given a copy of static-site/ as it is in the repository
    site = tmp_path / "static-site"
    shutil.copytree(PROJECT_DIR / "static-site", site)
    # When it is uploaded
    keys = upload_site(s3, bucket, site, CONFIG)
    # Then every file the index references exists, and every object has a known type
    html = read(s3, bucket, "index.html")
    for ref in re.findall(r'(?:src|href)="([^"#:]+)"', html):
        assert ref in keys, ref
    for key in keys:
        assert head(s3, bucket, key)["ContentType"] != "application/octet-stream", key


def test_empty_bucket_deletes_every_version(s3: Any, bucket: str, site: Path) -> None:
    # Given a versioned bucket holding two versions of the site
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    keys = upload_site(s3, bucket, site, CONFIG)
    upload_site(s3, bucket, site, CONFIG)
    # When it is emptied (as destroy does before deleting the stack)
    deleted = empty_bucket(s3, bucket)
    # Then every version of every key went, so CloudFormation can delete the bucket
    assert deleted == 2 * len(keys)
    versions = s3.list_object_versions(Bucket=bucket)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    s3.delete_bucket(Bucket=bucket)


def test_the_front_ends_renderer_gets_the_api_and_cognito_origins(
    monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str, site: Path
) -> None:
    # Given a front-end renderer for index.html (tools/site_build.py)
    calls: list[tuple[str, tuple[str, ...]]] = []

    def render(_site_dir: Path, api: str, others: tuple[str, ...]) -> str:
        calls.append((api, others))
        return INDEX.replace("<head>", f'<head><meta name="api" content="{api}">')

    monkeypatch.setattr(deploy, "_index_html", render)
    # When the site is uploaded
    upload_site(s3, bucket, site, CONFIG)
    # Then it was given the API's origin (no path) and Cognito's, and its output is what
    # gets published
    assert calls == [
        (
            "https://abc123defg.execute-api.eu-west-1.amazonaws.com",
            ("https://cognito-idp.eu-west-1.amazonaws.com",),
        )
    ]
    assert 'content="https://abc123defg.execute-api.eu-west-1.amazonaws.com"' in read(
        s3, bucket, "index.html"
    )


def _connect_src(html: str) -> list[str]:
    match = re.search(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    assert match, "no meta CSP"
    (directive,) = [
        d.split() for d in match.group(1).split(";") if d.split()[:1] == ["connect-src"]
    ]
    return directive[1:]


def test_the_deployed_page_may_connect_to_its_api_and_cognito_only(
    s3: Any, bucket: str, tmp_path: Path
) -> None:
    # Given the repository's site (its meta CSP allows loopback, for `make run`)
    site = tmp_path / "static-site"
    shutil.copytree(PROJECT_DIR / "static-site", site)
    assert "http://127.0.0.1:*" in _connect_src((site / "index.html").read_text())
    # When it is published for a stack
    upload_site(s3, bucket, site, CONFIG)
    # Then the published page may reach itself, the API and the Cognito endpoint, nothing
    # else: sign-in (InitiateAuth from the browser) is allowed, loopback is gone
    assert _connect_src(read(s3, bucket, "index.html")) == [
        "'self'",
        "https://abc123defg.execute-api.eu-west-1.amazonaws.com",
        "https://cognito-idp.eu-west-1.amazonaws.com",
    ]
