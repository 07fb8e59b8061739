// The signed-in agent. Signs in against Amazon Cognito with plain fetch (no SDK),
// keeps the tokens in memory and in this tab's sessionStorage (see docs/frontend.md for
// why not localStorage), refreshes the ID token with the refresh token, and revokes the
// refresh token on sign-out.
//
// One sign-in per browser: a tab that starts without a session asks the other open tabs
// of this origin over a BroadcastChannel, and one of them hands its session over (to
// that tab only, within HANDOVER_WAIT_MS). Signing out in one tab signs out every tab; a
// sign-in or a refresh in one tab is shared with the others.
//
// Tokens never go into the address bar, the page, the console or localStorage. Only
// api.js reads the ID token (to send it as a Bearer token); views only ever see `username`.
//
// Events: "change" with `detail.reason`: "ready" (the other tabs answered or not),
// "signed-in", "signed-out" (`detail.revoked`, `detail.elsewhere`), "expired", "refreshed".

const STORAGE_KEY = "support-desk.session";
const CHANNEL_NAME = "support-desk.session";
const TIMEOUT_MS = 15000;
// How long a new tab waits for another tab's session before showing the sign-in form.
const HANDOVER_WAIT_MS = 300;
// Sign-out waits this long at most for Cognito's RevokeToken, then signs out anyway.
const REVOKE_TIMEOUT_MS = 3000;
// Refresh a little before the ID token expires, so a request never races its expiry.
const REFRESH_MARGIN_MS = 60000;

/** Sign-in or refresh failed. `kind`: credentials, expired, network, config, unsupported, throttled. */
export class SessionError extends Error {
  constructor(message, kind) {
    super(message);
    this.name = "SessionError";
    this.kind = kind;
  }
}

export const MESSAGES = {
  credentials: "Wrong email or password.",
  expired: "Your session expired — sign in again.",
  signedOut: "You are not signed in.",
  signedOutHere: "You have signed out.",
  signedOutElsewhere: "You signed out in another tab.",
  notRevoked:
    "You have signed out of this browser, but your session could not be revoked at the sign-in service " +
    "(it did not answer or refused). A copy of it stays usable until it expires; if this computer is shared, tell an administrator.",
  network: "Cannot reach the sign-in service. Check your connection and try again.",
  config: "Agent sign-in is not configured for this site (config.js has no Cognito settings).",
  throttled: "Too many sign-in attempts. Wait a minute and try again.",
  unsupported: "This account cannot sign in here yet (it needs a new password or another step). Ask an administrator.",
};

function readCognitoConfig() {
  const cognito = window.SUPPORT_DESK_CONFIG && window.SUPPORT_DESK_CONFIG.cognito;
  if (!cognito || typeof cognito.endpoint !== "string" || typeof cognito.clientId !== "string") return null;
  try {
    const url = new URL(cognito.endpoint);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return { endpoint: url.href, clientId: cognito.clientId };
  } catch {
    return null;
  }
}

/** The claims of a JWT, without checking it: only for display and timing (the API checks it). */
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "="));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" ? claims : {};
  } catch {
    return {};
  }
}

/** Stored or received tokens in the expected shape, or null (never trust their source). */
function validTokens(raw) {
  if (!raw || typeof raw !== "object" || typeof raw.idToken !== "string" || typeof raw.expiresAt !== "number") {
    return null;
  }
  return {
    idToken: raw.idToken,
    refreshToken: typeof raw.refreshToken === "string" ? raw.refreshToken : null,
    expiresAt: raw.expiresAt,
    username: typeof raw.username === "string" ? raw.username : "",
  };
}

function randomId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function openChannel() {
  try {
    return "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL_NAME) : null;
  } catch {
    return null;
  }
}

function tokensFrom(result, previous) {
  const idToken = result.IdToken;
  const claims = claimsOf(idToken);
  const expiresAt =
    typeof claims.exp === "number" ? claims.exp * 1000 : Date.now() + Number(result.ExpiresIn || 0) * 1000;
  return {
    idToken,
    // REFRESH_TOKEN_AUTH answers without a new refresh token: keep the one we have.
    refreshToken: result.RefreshToken || (previous && previous.refreshToken) || null,
    expiresAt,
    username: String(claims.email || claims["cognito:username"] || (previous && previous.username) || ""),
  };
}

class Session extends EventTarget {
  #cognito = readCognitoConfig();
  #tokens = null;
  #refreshing = null;
  #signingOut = null;
  // Only same-origin documents of this browser profile can join a BroadcastChannel.
  #channel = openChannel();
  /** This tab's open question to the other tabs: {id, timer, resolve}, or null. */
  #asking = null;

  constructor() {
    super();
    this.#tokens = this.#load();
    this.#channel?.addEventListener("message", (event) => this.#onMessage(event.data));
    /** Settles once this tab knows whether it is signed in (at most HANDOVER_WAIT_MS). */
    this.ready = this.#tokens || !this.#channel ? Promise.resolve() : this.#askOtherTabs();
  }

  /** True while this tab waits for another tab's session (show neither form nor console). */
  get pending() {
    return this.#asking !== null;
  }

  get configured() {
    return this.#cognito !== null;
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  /** Who is signed in (their email), or "". */
  get username() {
    return this.#tokens ? this.#tokens.username : "";
  }

  /** The signed-in agent's name for display (the ID token's `name` claim), else their email. */
  get displayName() {
    if (!this.#tokens) return "";
    const name = claimsOf(this.#tokens.idToken).name;
    return typeof name === "string" && name.trim() ? name.trim() : this.#tokens.username;
  }

  /** Sign in with email and password; rejects with SessionError. */
  async signIn(username, password) {
    const result = await this.#initiateAuth("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
    this.#store(tokensFrom(result, { username }));
    // The other tabs that show the sign-in form are signed in too.
    this.#post({ type: "signed-in", tokens: this.#tokens });
    this.#emit("signed-in");
  }

  /**
   * Revoke the refresh token at Cognito (waiting REVOKE_TIMEOUT_MS at most), then forget
   * the session in this tab and in every other tab. Always signs out; resolves to
   * `{revoked}`, false when Cognito refused or could not be reached.
   */
  signOut() {
    if (this.#signingOut) return this.#signingOut;
    const tokens = this.#tokens;
    this.#signingOut = (async () => {
      // Nothing to revoke without a refresh token (the session could not be renewed anyway).
      const revoked = tokens && tokens.refreshToken ? await this.#revoke(tokens.refreshToken) : true;
      this.#store(null);
      this.#post({ type: "signed-out" });
      this.#emit("signed-out", { revoked, elsewhere: false });
      return { revoked };
    })().finally(() => {
      this.#signingOut = null;
    });
    return this.#signingOut;
  }

  /**
   * An ID token good for at least a minute, refreshing it first when it is about to
   * expire. Rejects with SessionError ("signedOut", "expired" or "network").
   */
  async idToken() {
    await this.ready;
    if (!this.#tokens) throw new SessionError(MESSAGES.signedOut, "signedOut");
    if (this.#tokens.expiresAt - Date.now() > REFRESH_MARGIN_MS) return this.#tokens.idToken;
    return this.#refresh();
  }

  /**
   * The API refused `rejectedToken` (401): refresh once and return the new token.
   * Calls that were refused together share one refresh.
   */
  async tokenAfterRejection(rejectedToken) {
    if (!this.#tokens) throw new SessionError(MESSAGES.expired, "expired");
    if (this.#tokens.idToken !== rejectedToken) return this.#tokens.idToken; // already refreshed
    return this.#refresh();
  }

  /** The API refused a freshly refreshed token too: nothing more to try. */
  expire() {
    if (!this.#tokens) return;
    this.#store(null);
    this.#emit("expired");
  }

  #refresh() {
    if (this.#refreshing) return this.#refreshing;
    const tokens = this.#tokens;
    this.#refreshing = (async () => {
      if (!tokens || !tokens.refreshToken) {
        this.expire();
        throw new SessionError(MESSAGES.expired, "expired");
      }
      let result;
      try {
        result = await this.#initiateAuth("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: tokens.refreshToken });
      } catch (error) {
        // Cognito unreachable: keep the session, the next attempt may work.
        if (error.kind === "network" || error.kind === "throttled") throw error;
        this.expire();
        throw new SessionError(MESSAGES.expired, "expired");
      }
      if (this.#tokens !== tokens) throw new SessionError(MESSAGES.expired, "expired"); // signed out meanwhile
      this.#store(tokensFrom(result, tokens));
      // The other tabs may take the new ID token instead of refreshing themselves.
      const { idToken, expiresAt, username } = this.#tokens;
      this.#post({ type: "refreshed", idToken, expiresAt, username });
      this.#emit("refreshed");
      return this.#tokens.idToken;
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** One Cognito API call (`operation` such as "InitiateAuth"): `{response, body}`; rejects when unreachable. */
  async #cognitoCall(operation, payload, timeoutMs) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    try {
      const response = await fetch(this.#cognito.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
        },
        body: JSON.stringify({ ...payload, ClientId: this.#cognito.clientId }),
        signal: timeout.signal,
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
      const body = await response.json().catch(() => null);
      return { response, body };
    } finally {
      clearTimeout(timer);
    }
  }

  /** RevokeToken: true when Cognito confirmed (HTTP 200), false on any refusal, error or timeout. */
  async #revoke(refreshToken) {
    if (!this.#cognito) return false;
    try {
      const { response } = await this.#cognitoCall("RevokeToken", { Token: refreshToken }, REVOKE_TIMEOUT_MS);
      return response.ok;
    } catch {
      return false;
    }
  }

  async #initiateAuth(flow, parameters) {
    if (!this.#cognito) throw new SessionError(MESSAGES.config, "config");
    let response;
    let body;
    try {
      ({ response, body } = await this.#cognitoCall("InitiateAuth", { AuthFlow: flow, AuthParameters: parameters }, TIMEOUT_MS));
    } catch {
      throw new SessionError(MESSAGES.network, "network");
    }
    if (response.ok && body && body.AuthenticationResult && body.AuthenticationResult.IdToken) {
      return body.AuthenticationResult;
    }
    if (response.ok) throw new SessionError(MESSAGES.unsupported, "unsupported"); // a challenge
    const type = String((body && body.__type) || "").split("#").pop();
    // Wrong password and unknown user read the same, so the form does not reveal who has an account.
    if (type === "NotAuthorizedException" || type === "UserNotFoundException") {
      throw new SessionError(MESSAGES.credentials, "credentials");
    }
    if (type === "TooManyRequestsException" || type === "LimitExceededException") {
      throw new SessionError(MESSAGES.throttled, "throttled");
    }
    if (response.status >= 500) throw new SessionError(MESSAGES.network, "network");
    throw new SessionError(MESSAGES.unsupported, "unsupported");
  }

  #store(tokens) {
    this.#tokens = tokens;
    try {
      if (tokens) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
      else window.sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Storage disabled: the session lives in memory only (a reload signs out).
    }
  }

  #load() {
    try {
      return validTokens(JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null"));
    } catch {
      return null; // Unreadable: start signed out.
    }
  }

  // ---- The other tabs ----

  #askOtherTabs() {
    return new Promise((resolve) => {
      const id = randomId();
      const timer = setTimeout(() => this.#stopAsking(null), HANDOVER_WAIT_MS);
      this.#asking = { id, timer, resolve };
      this.#post({ type: "request", id });
    });
  }

  /** End this tab's wait, with the session another tab handed over or without one. */
  #stopAsking(tokens) {
    const asking = this.#asking;
    if (!asking) return;
    clearTimeout(asking.timer);
    this.#asking = null;
    if (tokens) this.#store(tokens);
    asking.resolve();
    this.#emit("ready");
  }

  #onMessage(message) {
    if (!message || typeof message !== "object") return;
    switch (message.type) {
      case "request":
        // Only a signed-in tab answers, never one that is signing out, and only the tab that asked uses it.
        if (this.#tokens && !this.#signingOut && typeof message.id === "string") {
          this.#post({ type: "session", to: message.id, tokens: this.#tokens });
        }
        break;
      case "session":
        // The first answer wins; answers to another tab's question, or late ones, are ignored.
        if (this.#asking && message.to === this.#asking.id) {
          const tokens = validTokens(message.tokens);
          if (tokens) this.#stopAsking(tokens);
        }
        break;
      case "signed-in": {
        const tokens = validTokens(message.tokens);
        if (!tokens || this.#tokens) break; // a tab that is signed in keeps its session
        if (this.#asking) {
          this.#stopAsking(tokens);
        } else {
          this.#store(tokens);
          this.#emit("signed-in");
        }
        break;
      }
      case "refreshed":
        if (
          this.#tokens &&
          !this.#signingOut &&
          typeof message.idToken === "string" &&
          typeof message.expiresAt === "number" &&
          message.username === this.#tokens.username &&
          message.expiresAt > this.#tokens.expiresAt
        ) {
          this.#store({ ...this.#tokens, idToken: message.idToken, expiresAt: message.expiresAt });
          this.#emit("refreshed");
        }
        break;
      case "signed-out":
        // A tab still asking stops (an answer sent before the sign-out is not taken).
        this.#stopAsking(null);
        if (this.#tokens) {
          this.#store(null);
          this.#emit("signed-out", { revoked: true, elsewhere: true });
        }
        break;
      default:
        break;
    }
  }

  #post(message) {
    try {
      this.#channel?.postMessage(message);
    } catch {
      // A closed channel: this tab simply does not share.
    }
  }

  #emit(reason, extra = {}) {
    this.dispatchEvent(new CustomEvent("change", { detail: { reason, ...extra } }));
  }
}

/** The one session of this tab. */
export const session = new Session();
