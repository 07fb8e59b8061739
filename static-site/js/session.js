// The signed-in agent. Signs in against Amazon Cognito with plain fetch (no SDK),
// keeps the tokens in memory and in sessionStorage (see docs/frontend.md for why not
// localStorage), and refreshes the ID token with the refresh token.
//
// Tokens never go into the address bar, the page, or the console. Only api.js reads
// the ID token (to send it as a Bearer token); views only ever see `username`.
//
// Events: "change" with `detail.reason`: "signed-in", "signed-out", "expired", "refreshed".

const STORAGE_KEY = "support-desk.session";
const TIMEOUT_MS = 15000;
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

  constructor() {
    super();
    this.#tokens = this.#load();
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

  /** Sign in with email and password; rejects with SessionError. */
  async signIn(username, password) {
    const result = await this.#initiateAuth("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
    this.#store(tokensFrom(result, { username }));
    this.#emit("signed-in");
  }

  signOut() {
    this.#store(null);
    this.#emit("signed-out");
  }

  /**
   * An ID token good for at least a minute, refreshing it first when it is about to
   * expire. Rejects with SessionError ("signedOut", "expired" or "network").
   */
  async idToken() {
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
      this.#emit("refreshed");
      return this.#tokens.idToken;
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #initiateAuth(flow, parameters) {
    if (!this.#cognito) throw new SessionError(MESSAGES.config, "config");
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), TIMEOUT_MS);
    let response;
    let body = null;
    try {
      response = await fetch(this.#cognito.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        body: JSON.stringify({ AuthFlow: flow, ClientId: this.#cognito.clientId, AuthParameters: parameters }),
        signal: timeout.signal,
        mode: "cors",
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
      body = await response.json().catch(() => null);
    } catch {
      throw new SessionError(MESSAGES.network, "network");
    } finally {
      clearTimeout(timer);
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
      const saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.idToken === "string" && typeof saved.expiresAt === "number") {
        return {
          idToken: saved.idToken,
          refreshToken: typeof saved.refreshToken === "string" ? saved.refreshToken : null,
          expiresAt: saved.expiresAt,
          username: typeof saved.username === "string" ? saved.username : "",
        };
      }
    } catch {
      // Unreadable: start signed out.
    }
    return null;
  }

  #emit(reason) {
    this.dispatchEvent(new CustomEvent("change", { detail: { reason } }));
  }
}

/** The one session of this tab. */
export const session = new Session();
