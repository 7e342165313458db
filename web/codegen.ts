// GraphQL Code Generator: typed documents for every operation in src/, from the
// server's own schema files (graph/*.graphqls), never from a running server.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../graph/*.graphqls",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**/*"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { ID: "string", Time: "string", Date: "string", Cursor: "string", Upload: "File" },
      },
    },
  },
};

export default config;
