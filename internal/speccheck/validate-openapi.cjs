// Validates an OpenAPI document with @apidevtools/swagger-parser, a validator independent of the
// kin-openapi the portal uses. Usage: NODE_PATH=.cache/npm/node_modules node internal/speccheck/validate-openapi.cjs <file>
const SwaggerParser = require("@apidevtools/swagger-parser");

SwaggerParser.validate(process.argv[2])
  .then((api) => console.log(`valid: ${api.info.title} ${api.info.version}`))
  .catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
