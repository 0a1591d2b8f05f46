// Import direction between the folders of src/ (see DESIGN.md "Layout"). `npm run lint` runs it.
// Each folder may import only the folders listed for it; everything else is a back-import. The
// composition root (src/cli, src/app.ts) may import anything. src/core is pure: itself only.
/** @type {Record<string, string[]>} */
const allowed = {
  core: [],
  config: ["core"],
  store: ["core", "config"],
  obs: ["core", "config", "store"],
  // Connections to mail servers shared by ingest and outbound (imapflow client factory, OAuth2 tokens).
  net: ["core", "config", "obs"],
  queue: ["core", "config", "store", "obs"],
  pipeline: ["core", "config", "store", "obs"],
  ingest: ["core", "config", "store", "obs", "queue", "pipeline", "net"],
  llm: ["core", "config", "store", "obs", "queue", "pipeline"],
  outbound: ["core", "config", "store", "obs", "queue", "pipeline", "net"],
  review: ["core", "config", "store", "obs", "queue", "pipeline"],
  // The HTTP surface: the review page and its API call the review use cases (one approval path).
  web: ["core", "config", "store", "obs", "queue", "pipeline", "review"],
};
const folders = Object.keys(allowed);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules must not import each other in a circle (nor, therefore, folders).",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "core-is-pure",
      severity: "error",
      comment: "src/core holds the domain rules: no I/O, no packages, nothing outside src/core.",
      from: { path: "^src/core/" },
      to: { pathNot: "^src/core/" },
    },
    ...folders.map((folder) => ({
      name: `layer-${folder}`,
      severity: "error",
      comment: `src/${folder} may import only ${allowed[folder].length ? allowed[folder].map((f) => `src/${f}`).join(", ") : "itself"} (and packages).`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(?!(?:${[folder, ...allowed[folder]].join("|")})/)` },
    })),
    {
      name: "typeorm-only-in-store",
      severity: "error",
      comment:
        "Data access lives in src/store: elsewhere typeorm is imported for its types only (an EntityManager from store.tx passed on to store functions), never to query.",
      from: { path: "^src/", pathNot: "^src/store/" },
      to: { path: "^node_modules/typeorm/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "outbox-only-through-approval",
      severity: "error",
      comment:
        "Only the approval use case creates outbox entries (DESIGN.md promise 3: nothing is sent unreviewed): src/store/approvals.ts, which inserts them, is imported by src/review/approveDraft.ts and nothing else.",
      from: { path: "^src/", pathNot: "^src/review/approveDraft\\.ts$" },
      to: { path: "^src/store/approvals\\.ts$" },
    },
    {
      name: "src-not-from-tests",
      severity: "error",
      comment: "Production code never imports spec/ or bench/.",
      from: { path: "^src/" },
      to: { path: "^(spec|bench)/" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
    exclude: { path: "^src/store/migrations/" },
  },
};
