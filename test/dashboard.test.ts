/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (which downloads no
 * browser), headless and with background networking off, against a real 3-process cluster. The
 * page must list every member and the leader, move leadership with its button, show a new leader
 * within seconds of the leader being SIGKILLed — also on a page served by the member that died —
 * and leave a screenshot in test-artifacts/.
 *
 * Skipped only where chromium is missing outside CI; in CI (.ci/run installs chromium) it runs.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it, type TestContext } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { fixedEnsemble } from "./engine_under_test.js";
import { ProcessCluster, until, type Member } from "./harness.js";

const chromiumPath = "/usr/bin/chromium";
const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
];
/** The repository's test-artifacts/ (this file runs as dist/test/dashboard.test.js). */
const artifactsDir = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
const screenshotPath = join(artifactsDir, "dashboard.png");

const skip =
  !existsSync(chromiumPath) && process.env.CI === undefined
    ? `${chromiumPath} is not installed (apt-get install chromium); CI installs it and runs this test`
    : false;

/** What the page shows, read through its stable hooks (ids and data- attributes). */
async function shown(page: Page): Promise<{ leader: string; members: Record<string, string> }> {
  const leader = (await page.locator("#leader").getAttribute("data-leader")) ?? "";
  const members: Record<string, string> = {};
  for (const row of await page.locator("#members tbody tr[data-member]").all()) {
    const name = await row.getAttribute("data-member");
    if (name !== null) members[name] = ((await row.locator("td.role").textContent()) ?? "").trim();
  }
  return { leader, members };
}

/** Waits until the page shows `want` as leader with every live member listed by role. */
async function untilPageShows(
  page: Page,
  what: string,
  check: (view: Awaited<ReturnType<typeof shown>>) => boolean,
  timeoutMs: number,
): Promise<void> {
  let last: unknown;
  try {
    await until(
      what,
      async () => {
        last = {
          ...(await shown(page)),
          transfer: await page.locator("#transfer-result").textContent(),
          banner: await page.locator("#banner").textContent(),
        };
        return check(last as Awaited<ReturnType<typeof shown>>) ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}; the page showed ${JSON.stringify(last)}`,
    );
  }
}

/**
 * A light, bounded client load through `via` (a write and a read every ~20 ms, at most 3000 of
 * each), so the throughput chart has something to show; failures during the failover are fine.
 */
function clientLoad(via: Member): { stop: () => Promise<void> } {
  const load = { stopped: false };
  const done = (async () => {
    for (let i = 0; i < 3000 && !load.stopped; i++) {
      const url = `http://${via.clientAddr}/v1/kv/dashboard-${i % 50}`;
      await fetch(url, { method: "PUT", body: `value ${i}`, signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      load.stopped = true;
      await done;
    },
  };
}

/** Clicks the transfer button until `target` leads: a loaded machine may see one refused or overtaken by an election. */
async function transferByButton(t: TestContext, page: Page, target: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.locator("#transfer-to").selectOption(target);
    await page.locator("#transfer").click();
    const answer = await until(
      "the button's answer",
      async () => {
        const text = (await page.locator("#transfer-result").textContent()) ?? "";
        return /^(refused|failed)|leads now$/.test(text) ? text : undefined;
      },
      30_000,
    );
    if (answer === `${target} leads now`) return;
    t.diagnostic(`transfer attempt ${attempt}: ${answer}`);
    if (attempt === 3) assert.fail(`the transfer to ${target} failed 3 times; last answer: ${answer}`);
    await until(
      "the button to be usable again",
      async () => ((await page.locator("#transfer").isEnabled()) ? true : undefined),
      10_000,
    );
  }
}

describe("the dashboard in a real browser", { skip }, () => {
  let cluster: ProcessCluster;
  let context: BrowserContext;
  let profile: string;
  const pageErrors: string[] = [];

  before(async () => {
    await mkdir(artifactsDir, { recursive: true });
    profile = await mkdtemp(join(tmpdir(), "raftkv-chromium-"));
    cluster = await ProcessCluster.start(3);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 900 },
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    await cluster?.stop();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  async function open(m: Member): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (error) => pageErrors.push(`${m.name}: ${error.message}`));
    await page.goto(`http://${m.clientAddr}/`);
    return page;
  }

  it("lists the members and the leader, transfers leadership, and shows a new leader after the leader is SIGKILLed", async (t: TestContext) => {
    const names = cluster.members.map((m) => m.name);
    const first = await cluster.leader(30_000);
    const viewer = cluster.members.find((m) => m !== first)!;
    const page = await open(viewer);
    const load = clientLoad(viewer);
    /** Every member listed, `leader` (or, without one, any member) leading and the others following. */
    const consistent = (view: Awaited<ReturnType<typeof shown>>, leader?: string): boolean =>
      view.leader !== "" &&
      (leader === undefined || view.leader === leader) &&
      names.every((n) => view.members[n] === (n === view.leader ? "leader" : "follower"));
    let survivor = page;
    try {
      await untilPageShows(
        page,
        `the page on ${viewer.name} to list ${names.join(", ")} and a leader`,
        (view) => consistent(view),
        20_000,
      );
      assert.ok(names.includes((await shown(page)).leader));

      // The button: hand leadership to a member that neither leads nor served the page (no
      // transfer on a fixed ensemble: the current leader stays, and is the one SIGKILLed below).
      const current = await cluster.leader();
      const target = fixedEnsemble === false ? cluster.members.find((m) => m !== viewer && m !== current)! : current;
      if (fixedEnsemble === false) await transferByButton(t, page, target.name);
      await untilPageShows(
        page,
        `the page to show ${target.name} leading`,
        (view) => consistent(view, target.name),
        15_000,
      );

      // A second page, served by the new leader: it must carry on through the others when its member dies.
      const second = await open(target);
      await untilPageShows(
        second,
        `the page on ${target.name} to list every member`,
        (view) => consistent(view),
        15_000,
      );
      await page.screenshot({ path: join(artifactsDir, "dashboard-before-kill.png"), fullPage: true });

      const victim = await cluster.leader();
      await cluster.stopMember(victim.name, "SIGKILL");
      const killedAt = Date.now();
      const pages = [
        { page, origin: viewer },
        { page: second, origin: target },
      ];
      survivor = pages.find((p) => p.origin !== victim)!.page;
      const newLeader = (view: Awaited<ReturnType<typeof shown>>): boolean =>
        view.leader !== "" && view.leader !== victim.name && view.members[view.leader] === "leader";
      await untilPageShows(survivor, `a new leader on the page after SIGKILL of ${victim.name}`, newLeader, 15_000);
      const seconds = (Date.now() - killedAt) / 1000;
      const { leader: shownLeader, members } = await shown(survivor);
      t.diagnostic(
        `new leader ${shownLeader} shown ${seconds.toFixed(1)} s after SIGKILL of the leader ${victim.name}; roles: ${JSON.stringify(members)}`,
      );
      await until(
        "the page and the cluster to agree on the leader",
        async () => ((await shown(survivor)).leader === (await cluster.leader()).name ? true : undefined),
        15_000,
      );
      await untilPageShows(
        survivor,
        `${victim.name} shown unreachable`,
        (view) => view.members[victim.name] === "unreachable",
        10_000,
      );
      for (const { page: p, origin } of pages) {
        await untilPageShows(p, `the page served by ${origin.name} to show a new leader`, newLeader, 15_000);
        if (origin === victim)
          assert.match(
            (await p.locator("#banner").textContent()) ?? "",
            new RegExp(`\\(${victim.name}\\) does not answer`),
          );
      }

      // The histories and the throughput chart.
      assert.match((await survivor.locator("#leader-changes").textContent()) ?? "", /n\d leads/);
      // A fixed ensemble (Multi-Paxos) never changes, not even by a bootstrap entry.
      const memberChanges = (await survivor.locator("#member-changes").textContent()) ?? "";
      assert.equal(/bootstrapped/.test(memberChanges), fixedEnsemble === false, memberChanges);
      assert.equal(await survivor.locator("#chart polyline").count(), 2, "writes and reads lines");
      for (const kind of ["writes", "reads"]) {
        await until(
          `${kind} per second on the page`,
          async () =>
            /avg [1-9]/.test((await survivor.locator(`#${kind}-now`).textContent()) ?? "") ? true : undefined,
          10_000,
        );
      }
      assert.deepEqual(pageErrors, [], "no script errors");
    } finally {
      await load.stop();
      await survivor.screenshot({ path: screenshotPath, fullPage: true }).catch(() => undefined);
      t.diagnostic(`dashboard screenshot: ${screenshotPath}`);
    }
  });
});
