// PostGraphile v5 configuration for the benchmark (used by start.sh v5).
// The connection string, schema, host and port come from start.sh's command line.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // v5 only offers orderBy/condition on indexed columns; Trestle orders
  // workstreams and dependencies by created_at (not indexed), as v4 allows by
  // default. Lift that restriction so both versions run the same query.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  grafserv: {
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
