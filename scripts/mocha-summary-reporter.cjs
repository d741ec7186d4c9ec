// A mocha reporter: the spec reporter's usual output, plus, when the run ends, {passes, failures, pending, tests}
// as JSON in the file named by NUDGE_TEST_SUMMARY. scripts/test.mjs reads that file to print its closing
// "N passed, N failed" line; counting from mocha's own statistics is sturdier than parsing coloured output.
// CommonJS because mocha loads a reporter given by path with require().
'use strict';

const fs = require('node:fs');

// mocha 12 is an ES module; Node >= 20.19 can require() it. The deep path is a fallback for older Nodes.
let reporters;
try {
  reporters = require('mocha').reporters;
} catch {
  reporters = require('mocha/lib/reporters/index.cjs');
}
const { Spec } = reporters;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    // Registered after Spec's own listener, so the file is written after the usual epilogue. Written
    // synchronously: with `exit: true` mocha calls process.exit right after the run ends.
    runner.once('end', () => {
      const file = process.env.NUDGE_TEST_SUMMARY;
      if (!file) return;
      const { passes = 0, failures = 0, pending = 0, tests = 0 } = this.stats || {};
      fs.writeFileSync(file, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}

module.exports = SummaryReporter;
