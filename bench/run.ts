// `npm run bench`: every benchmark, outside `npm test`.
await import("./one-call.js");
