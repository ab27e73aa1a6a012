// What may import what (README "Architecture"), checked by `npm run deps` in `npm test`.
// test/unit/architecture/dependency-rules.test.ts breaks each rule on purpose and expects this
// configuration to report it, so a rule cannot silently stop matching.
//
// Capability folders: the use cases and rules of one concern each. They may import zod (schemas
// are how the project states a shape; zod does no I/O) and node's built-ins, nothing else from
// npm: no SDK, no HTTP framework.

const CAPABILITIES = '(directory|onboarding|roles|logs|sessions)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'Import cycles (type-only imports included) mean two modules cannot be understood apart.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'localcloud-independent',
      comment:
        'localcloud imports nothing from shared/, functions/ or scripts/: a codec or signer shared between an adapter and the stand-in would hide a bug on both sides.',
      severity: 'error',
      from: { path: '^localcloud/' },
      to: { path: '^(shared|functions|scripts)/' },
    },
    {
      name: 'capability-no-infrastructure',
      comment:
        'A capability declares ports; it never imports the adapters (cloud, store), the HTTP layer or the composition root.',
      severity: 'error',
      from: { path: `^shared/${CAPABILITIES}/` },
      to: { path: '^shared/(cloud|store|http|wiring)/' },
    },
    {
      name: 'capability-no-npm-but-zod',
      comment: 'A capability imports no npm package but zod (no SDK, no framework).',
      severity: 'error',
      from: { path: `^shared/${CAPABILITIES}/` },
      to: {
        dependencyTypes: [
          'npm',
          'npm-dev',
          'npm-optional',
          'npm-peer',
          'npm-no-pkg',
          'npm-unknown',
        ],
        pathNot: 'node_modules/zod/',
      },
    },
    {
      name: 'capability-uses-others-through-model-and-ports',
      comment:
        "A capability may use another capability's entities (model.ts) and ports (ports.ts), never its use cases.",
      severity: 'error',
      from: { path: `^shared/${CAPABILITIES}/` },
      to: {
        path: `^shared/${CAPABILITIES}/`,
        pathNot: ['^shared/$1/', `^shared/${CAPABILITIES}/(model|ports)\\.ts$`],
      },
    },
    {
      name: 'domain-is-the-bottom',
      comment:
        'shared/domain is what every capability shares: it imports no capability and no adapter.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: `^shared/(${CAPABILITIES.slice(1, -1)}|cloud|store|http|wiring)/` },
    },
    {
      name: 'adapters-implement-ports',
      comment:
        "shared/cloud and shared/store implement the ports capabilities declare: they may import a capability's model.ts and ports.ts, nothing else of it.",
      severity: 'error',
      from: { path: '^shared/(cloud|store)/' },
      to: {
        path: `^shared/${CAPABILITIES}/`,
        pathNot: `^shared/${CAPABILITIES}/(model|ports)\\.ts$`,
      },
    },
    {
      name: 'http-no-infrastructure',
      comment:
        'Routes receive what they need through interfaces declared beside them; they never build adapters or reach the store.',
      severity: 'error',
      from: { path: '^shared/http/' },
      to: { path: '^shared/(wiring|store|cloud)/' },
    },
    {
      name: 'wiring-is-the-root',
      comment: 'Only functions/ import the composition root (shared/wiring).',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/wiring/' },
      to: { path: '^shared/wiring/' },
    },
    {
      name: 'functions-are-thin',
      comment:
        'functions/<name>/index.ts is one defineFunction call: it imports shared/wiring and shared/runtime only.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { pathNot: '^shared/(wiring|runtime)/' },
    },
    {
      name: 'deploy-build-without-emulator',
      comment: 'The deploy build (scripts/) never depends on the emulator.',
      severity: 'error',
      from: { path: '^scripts/' },
      to: { path: '^localcloud/' },
    },
    {
      name: 'bundling-stands-alone',
      comment:
        'bundling/ is shared by the deploy build and the local host, so it imports neither (nor the application).',
      severity: 'error',
      from: { path: '^bundling/' },
      to: { path: '^(shared|functions|localcloud|scripts)/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'client/ is what a portal copies: it speaks the API through its OpenAPI types and imports nothing of the project.',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(shared|functions|localcloud|scripts|bundling|test)/' },
    },
    {
      name: 'application-not-tooling',
      comment: 'The application never imports the emulator, the tests or the build tooling.',
      severity: 'error',
      from: { path: '^(shared|functions)/' },
      to: { path: '^(localcloud|scripts|bundling|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type-level cycle is still a cycle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
