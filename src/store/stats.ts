import type { JobRow } from "./entities/work.js";
import type { QuarantineRow } from "./entities/mail.js";
import { select } from "./sql.js";
import type { Store } from "./store.js";

/** Counts for metrics, read at scrape time outside any transaction. */

/** How many jobs there are of each type in each state (pairs without jobs are left out). */
export async function countJobsByTypeAndState(store: Store): Promise<{ type: string; state: string; count: number }[]> {
  const rows = await store.read((em) =>
    select<{ t: string; s: string; n: number | string }>(
      em,
      "SELECT `type` AS t, `state` AS s, COUNT(*) AS n FROM `jobs` GROUP BY `type`, `state`",
      [],
    ),
  );
  return rows.map((r) => ({ type: r.t, state: r.s, count: Number(r.n) }));
}

/** Jobs queued and due now (waiting for a worker). */
export async function countDueJobs(store: Store, now: Date = new Date()): Promise<number> {
  return store.read((em) =>
    em.getRepository<JobRow>("Job").createQueryBuilder("j").where("j.state = 'queued' AND j.runAt <= :now", { now }).getCount(),
  );
}

/** Quarantine entries waiting for a person. */
export async function countOpenQuarantine(store: Store): Promise<number> {
  return store.read((em) => em.getRepository<QuarantineRow>("Quarantine").count({ where: { status: "open" } }));
}
