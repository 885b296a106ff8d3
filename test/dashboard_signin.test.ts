/**
 * The dashboard's sign-in in a real browser (chromium via playwright-core, as test/dashboard.test.ts),
 * on the page a real member serves. The auth routes are scripted by intercepting the page's requests
 * (docs/api.md, "Authentication"): /v1/auth/status says enabled, /v1/auth/authenticate issues tokens,
 * and /v1/cluster answers 401 unless it carries the token currently valid, else goes on to the member.
 * So this checks the page's side of the contract: the form appears when auth is on, a wrong password
 * is said, the token is kept for the tab and sent on every data request, and a refused token (or a
 * pasted one) asks again. Without auth the page shows no form and sends no token. Last, auth is
 * enabled on the member itself and the page signs in through its real routes.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type BrowserContext, type Page, type Route } from "playwright-core";
import { RaftkvClient } from "raftkv/client";
import { ProcessCluster, until } from "./harness.js";

const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"];
const skip =
  !existsSync(chromiumPath) && process.env.CI === undefined
    ? `${chromiumPath} is not installed (apt-get install chromium); CI installs it and runs this test`
    : false;

/** The scripted auth side, and what the page sent to /v1/cluster. */
interface Script {
  valid: string;
  issued: number;
  readonly clusterAuthorizations: (string | undefined)[];
}

async function scriptAuth(page: Page, script: Script): Promise<void> {
  await page.route("**/v1/auth/status", (route: Route) => route.fulfill({ json: { enabled: true, revision: 3 } }));
  await page.route("**/v1/auth/authenticate", (route: Route) => {
    const { name, password } = route.request().postDataJSON() as { name: string; password: string };
    if (name !== "alice" || password !== "secret") {
      return route.fulfill({
        status: 401,
        json: { error: "authentication_failed", message: "wrong name or password" },
      });
    }
    script.valid = `tok-${++script.issued}`;
    return route.fulfill({ json: { token: script.valid, expiresAt: Date.now() + 60_000 } });
  });
  await page.route("**/v1/cluster", async (route: Route) => {
    const authorization = await route.request().headerValue("authorization");
    script.clusterAuthorizations.push(authorization ?? undefined);
    if (authorization === `Bearer ${script.valid}`) return route.continue();
    return route.fulfill({ status: 401, json: { error: "invalid_token", message: "token refused" } });
  });
}

const visible = async (page: Page, selector: string): Promise<boolean> => page.locator(selector).isVisible();

async function untilTrue(what: string, probe: () => Promise<boolean>): Promise<void> {
  await until(what, async () => ((await probe()) ? true : undefined), 15_000);
}

/** The token the page keeps for its tab. */
const storedToken = (page: Page): Promise<unknown> => page.evaluate('sessionStorage.getItem("raftkv-token")');

const membersShown = (page: Page): Promise<number> => page.locator("#members tbody tr[data-member]").count();

/** A wrong password is said; the right one shows the data and keeps the token. */
async function signIn(page: Page): Promise<void> {
  await page.locator("#signin-user").fill("alice");
  await page.locator("#signin-password").fill("wrong");
  await page.locator("#signin-submit").click();
  await untilTrue("the wrong password said", async () =>
    /Wrong user name or password/.test((await page.locator("#signin-error").textContent()) ?? ""),
  );
  await page.locator("#signin-password").fill("secret");
  await page.locator("#signin-submit").click();
  await untilTrue("the member listed once signed in", async () => (await membersShown(page)) === 1);
  assert.equal(await visible(page, "#signin"), false);
  assert.equal(await visible(page, "#signed-in"), true);
  assert.equal(await storedToken(page), "tok-1");
}

/** Kept for the tab: a reload goes straight to the data with the same token. */
async function reloadKeepsToken(page: Page, script: Script): Promise<void> {
  script.clusterAuthorizations.length = 0;
  await page.reload();
  await untilTrue("the member listed after a reload", async () => (await membersShown(page)) === 1);
  assert.equal(await visible(page, "#signin"), false);
  assert.ok(
    script.clusterAuthorizations.every((a) => a === "Bearer tok-1"),
    JSON.stringify(script.clusterAuthorizations),
  );
}

/**
 * The cluster stops accepting the token (expired, password changed): asked again; a pasted token
 * works; signing out forgets it.
 */
async function refusedAsksAgain(page: Page, script: Script): Promise<void> {
  script.valid = "tok-pasted";
  await untilTrue("the form again after a 401", () => visible(page, "#signin"));
  assert.match((await page.locator("#signin-reason").textContent()) ?? "", /no longer accepts/);
  await page.locator("#signin-token").fill("tok-pasted");
  await page.locator("#signin-submit").click();
  await untilTrue("the form gone with the pasted token", async () => !(await visible(page, "#signin")));
  script.clusterAuthorizations.length = 0;
  await untilTrue("a view fetched with the pasted token", () =>
    Promise.resolve(script.clusterAuthorizations.includes("Bearer tok-pasted")),
  );
  assert.equal(await storedToken(page), "tok-pasted");

  // Signing out forgets it and asks again.
  await page.locator("#sign-out").click();
  await untilTrue("the form after signing out", () => visible(page, "#signin"));
  assert.equal(await storedToken(page), null);
}

/** Adds root and enables auth on the cluster, through the client. */
async function enableAuth(endpoints: string[]): Promise<void> {
  const admin = new RaftkvClient({ endpoints, timeoutMs: 30_000, auth: { user: "root", password: "rootpw" } });
  try {
    await admin.auth.user.add("root", "rootpw");
    await admin.auth.enable();
  } finally {
    admin.close();
  }
}

/** The form shown by the member's GET /v1/auth/status; a wrong password refused, the right one shows the data. */
async function signInAsRoot(page: Page): Promise<void> {
  await untilTrue("the sign-in form", () => visible(page, "#signin"));
  await page.locator("#signin-user").fill("root");
  await page.locator("#signin-password").fill("wrong");
  await page.locator("#signin-submit").click();
  await untilTrue("the wrong password said", async () =>
    /Wrong user name or password/.test((await page.locator("#signin-error").textContent()) ?? ""),
  );
  assert.equal(await membersShown(page), 0);
  await page.locator("#signin-password").fill("rootpw");
  await page.locator("#signin-submit").click();
  await untilTrue("the member listed once signed in", async () => (await membersShown(page)) === 1);
  assert.equal(await visible(page, "#signin"), false);
}

describe("the dashboard's sign-in in a real browser", { skip }, () => {
  let cluster: ProcessCluster;
  let context: BrowserContext;
  let profile: string;
  const pageErrors: string[] = [];

  before(async () => {
    profile = await mkdtemp(join(tmpdir(), "raftkv-chromium-"));
    cluster = await ProcessCluster.start(1);
    await cluster.leader(30_000);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await cluster?.stop();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  async function open(): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(error.message));
    return page;
  }

  it("without auth shows no form and sends no token", async () => {
    const page = await open();
    const sent: (string | undefined)[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/v1/cluster")) sent.push(request.headers()["authorization"]);
    });
    await page.goto(`http://${cluster.members[0]?.clientAddr}/`);
    await untilTrue("the member listed", async () => (await membersShown(page)) === 1);
    assert.equal(await visible(page, "#signin"), false);
    assert.equal(await visible(page, "#signed-in"), false);
    assert.ok(sent.length > 0 && sent.every((a) => a === undefined), JSON.stringify(sent));
    await page.close();
    assert.deepEqual(pageErrors, []);
  });

  it("asks to sign in, says a wrong password, keeps the token for the tab and asks again when it is refused", async () => {
    const page = await open();
    const script: Script = { valid: "none yet", issued: 0, clusterAuthorizations: [] };
    await scriptAuth(page, script);
    await page.goto(`http://${cluster.members[0]?.clientAddr}/`);
    await untilTrue("the sign-in form", () => visible(page, "#signin"));
    assert.match((await page.locator("#signin-reason").textContent()) ?? "", /requires signing in/);
    assert.equal(await membersShown(page), 0);

    await signIn(page);
    await reloadKeepsToken(page, script);
    await refusedAsksAgain(page, script);
    await page.close();
    assert.deepEqual(pageErrors, []);
  });

  it("against the member's own auth routes: asks once auth is enabled, and shows the data once signed in", async () => {
    await enableAuth(cluster.members.map((m) => m.clientAddr));
    const page = await open();
    await page.goto(`http://${cluster.members[0]?.clientAddr}/`);
    await signInAsRoot(page);
    await page.close();
    assert.deepEqual(pageErrors, []);
  });
});
