// Ends Jest's output with one plain line, `Tests: N passed, N failed, N skipped`, that CI reads as the run's count.
// Jest prints its own summary after every reporter, so outside watch mode the line is written as the process exits.
export default class PlainSummary {
  constructor(globalConfig) {
    this.watching = globalConfig.watch || globalConfig.watchAll;
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A file that failed to load, or a hook that failed outside any test, counts as a failure too.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `Tests: ${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped\n`;
    if (this.watching) process.stdout.write(`\n${line}`);
    else process.once('exit', () => process.stdout.write(line));
  }
}
