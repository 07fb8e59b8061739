"""Start and stop the whole local stack in one process."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.dependencies import reset_dependencies
from chalicelib.settings import get_settings
from local_stack.api_server import ApiServer, load_chalice_config
from local_stack.cognito import (
    DEFAULT_AGENT_NAME,
    DEFAULT_AGENT_PASSWORD,
    DEFAULT_AGENT_USERNAME,
    AgentPool,
    add_agent,
    create_agent_pool,
)
from local_stack.fake_claude import FakeClaudeServer
from local_stack.moto_server import MotoServer
from local_stack.schema import ensure_table
from local_stack.site_server import SiteServer
from local_stack.stream_poller import StreamPoller

# Locally every email goes to moto's SES (nothing leaves the machine); see the outbox.
LOCAL_MAIL_SENDER = "Support desk <support@example.com>"


def verify_sender(endpoint: str, region: str, sender: str) -> None:
    """Make ``sender`` a verified SES identity (moto verifies at once, like a real
    verified address in the SES sandbox)."""
    import email.utils

    import boto3

    address = email.utils.parseaddr(sender)[1]
    boto3.client("sesv2", endpoint_url=endpoint, region_name=region).create_email_identity(
        EmailIdentity=address
    )


PROJECT_DIR = Path(__file__).resolve().parent.parent
FAKE_CLAUDE_KEY = "local-fake-claude-key"


def site_config(api_url: str, agents: AgentPool) -> dict[str, object]:
    """The site's config.js values: where the API is and how agents sign in."""
    return {
        "apiBaseUrl": api_url,
        "cognito": {
            "endpoint": agents.endpoint,
            "region": agents.region,
            "clientId": agents.client_id,
        },
    }


@dataclass
class StackOptions:
    """What to start, and where."""

    host: str = "127.0.0.1"
    api_port: int = 8000
    site_port: int = 3000
    fake_claude: bool = False
    seed: bool = False
    serve_site: bool = True
    agent_username: str = DEFAULT_AGENT_USERNAME
    agent_password: str = DEFAULT_AGENT_PASSWORD
    mail_sender: str = LOCAL_MAIL_SENDER
    # False serves plain moto, without local_stack.moto_patch (for comparisons only).
    moto_patch: bool = True


@dataclass
class LocalStack:
    """moto + (fake Claude) + API + site, all on loopback."""

    options: StackOptions
    moto: MotoServer | None = None
    fake_claude: FakeClaudeServer | None = None
    api: ApiServer | None = None
    site: SiteServer | None = None
    agents: AgentPool | None = None
    poller: StreamPoller | None = None
    seeded: int = 0
    _stopped: bool = field(default=False, repr=False)

    def start(self) -> LocalStack:
        """Start every part; on failure, stop what already started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        options = self.options
        self.moto = MotoServer(options.host, 0, patched=options.moto_patch).start()
        config = load_chalice_config(PROJECT_DIR, "local")
        environment = dict(config.environment_variables)
        site_origins = [
            f"http://127.0.0.1:{options.site_port}",
            f"http://localhost:{options.site_port}",
        ]
        environment.update(
            {
                # Fake credentials and moto for every AWS service: the local stack
                # can never reach a real AWS account, whatever the shell has set.
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": self.moto.url,
                "CORS_ALLOWED_ORIGINS": ",".join(site_origins),
                # Fresh keys for every run: nothing local signs with a known key.
                "CURSOR_KEY": secrets.token_urlsafe(32),
                "LINK_KEY": secrets.token_urlsafe(32),
                "SITE_URL": f"http://127.0.0.1:{options.site_port}",
                "MAIL_SENDER": options.mail_sender,
            }
        )
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
            os.environ.pop(name, None)
        if options.fake_claude:
            self.fake_claude = FakeClaudeServer(options.host, 0).start()
            environment["ANTHROPIC_BASE_URL"] = self.fake_claude.url
            environment["ANTHROPIC_API_KEY"] = os.environ.get("FAKE_CLAUDE_KEY", FAKE_CLAUDE_KEY)
        os.environ.update(environment)
        self.agents = create_agent_pool(self.moto.url, "us-east-1")
        add_agent(self.agents, options.agent_username, options.agent_password, DEFAULT_AGENT_NAME)
        verify_sender(self.moto.url, "us-east-1", options.mail_sender)
        os.environ.update(
            {
                "COGNITO_USER_POOL_ID": self.agents.pool_id,
                "COGNITO_APP_CLIENT_ID": self.agents.client_id,
                "COGNITO_JWKS_URL": self.agents.jwks_url,
            }
        )
        reset_dependencies()
        settings = get_settings()
        ensure_table(settings.table_name, settings.region)
        from chalicelib.events.stream import handle_stream_batch

        consumed = None
        if options.moto_patch:
            from local_stack.moto_patch.streams import for_a_consumer, trim_stream

            for_a_consumer()
            consumed = trim_stream
        self.poller = StreamPoller(
            settings.table_name,
            settings.region,
            handle_stream_batch,
            self.moto.url,
            consumed=consumed,
        )
        if options.seed:
            from local_stack.seed import seed_demo_tickets

            self.seeded = seed_demo_tickets(agent_username=options.agent_username)
        self.poller.start()
        from app import app

        self.api = ApiServer(app, config, options.host, options.api_port).start()
        if options.serve_site:
            self.site = SiteServer(
                PROJECT_DIR / "static-site",
                options.host,
                options.site_port,
                site_config(self.api.url, self.agents),
            ).start()

    def state(self) -> dict[str, str]:
        """What ``make token`` and other tools need to reach this stack."""
        assert self.api and self.moto and self.agents
        return {
            "api_url": self.api.url,
            "site_url": self.site.url if self.site else "",
            "moto_url": self.moto.url,
            "cognito_endpoint": self.agents.endpoint,
            "cognito_client_id": self.agents.client_id,
            "cognito_user_pool_id": self.agents.pool_id,
            "agent_username": self.options.agent_username,
            "agent_password": self.options.agent_password,
            "outbox_url": (self.site.url + "_outbox/") if self.site else "",
        }

    def stop(self) -> None:
        """Stop everything that runs, newest first."""
        if self._stopped:
            return
        self._stopped = True
        if self.poller is not None:
            self.poller.stop()
        for part in (self.site, self.api, self.fake_claude, self.moto):
            if part is not None:
                part.stop()
