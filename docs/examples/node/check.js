// Calling crossgrad from Node.js: a request built by hand from proto/crossgrad/v1/crossgrad.proto.
//
//   npm install                       (in this folder: @grpc/grpc-js and @grpc/proto-loader)
//   node check.js HOST:PORT           (a running `crossgrad serve`)
//
// The graph is loss = sum(tanh(x @ w)) with x (2x3, a constant) and w (3x2, requires grad).
// Prints the verdict and w's gradient from each witness; exits 0 when the witnesses agree,
// 1 on a mismatch, 2 on an error status (printed with its BadRequest field violations).
"use strict";
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const PROTO = path.join(__dirname, "..", "..", "..", "proto", "crossgrad", "v1", "crossgrad.proto");
const definition = protoLoader.loadSync(PROTO, { keepCase: true, enums: String, longs: Number, defaults: true });
const crossgrad = grpc.loadPackageDefinition(definition).crossgrad.v1;

// Tensors are row-major: shape plus `data` (float32/float64) or `int_data` (int64 class targets).
// DTYPE_UNSPECIFIED is refused: always say which dtype.
const tensor = (shape, data) => ({ shape, dtype: "DTYPE_FLOAT64", data });
const leaf = (name, value, requiresGrad) => ({ name, leaf: { value, requires_grad: requiresGrad } });
const op = (name, kind, inputs, attrs = {}) => ({ name, op: { op: kind, inputs, attrs } });

const request = {
  graph: {
    nodes: [ // topological order: every input is named before the node that uses it
      leaf("x", tensor([2, 3], [0.5, -1.0, 2.0, 1.5, 0.25, -0.75]), false),
      leaf("w", tensor([3, 2], [0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), true),
      op("h", "matmul", ["x", "w"]),
      op("t", "tanh", ["h"]),
      // attributes are AttrValue oneofs: sum's dim = None is {none_value: true}, dim=(0,) is ints_value
      op("loss", "sum", ["t"], { dim: { none_value: true } }),
    ],
  },
  root: "loss",       // the node to differentiate (a scalar here, so no `gradient` is needed)
  tier: "TIER_AUTO",
};

function main() {
  const target = process.argv[2] || "127.0.0.1:50051";
  const client = new crossgrad.CrossgradService(target, grpc.credentials.createInsecure());
  client.Check(request, { deadline: Date.now() + 30000 }, (err, response) => {
    if (err) {
      console.error(`error ${grpc.status[err.code]}: ${err.details}`);
      process.exit(2);
    }
    console.log(`verdict ${response.verdict}`);
    for (const l of response.leaves) {
      for (const witness of ["numeric", "symbolic", "finite_difference"]) {
        if (l[witness]) console.log(`${l.name} ${witness} ${l[witness].data.map((v) => v.toFixed(6)).join(" ")}`);
      }
    }
    process.exit(response.verdict === "VERDICT_AGREE" ? 0 : 1);
  });
}

main();
