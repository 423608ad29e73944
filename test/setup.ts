// Loaded by mocha before any test (see .mocharc.json).
// Errors inside Pulumi's Output chains surface only as unhandled promise rejections; make
// every one of them fail the run instead of scrolling past.
process.on("unhandledRejection", (reason) => {
    console.error("unhandled promise rejection:", reason);
    process.exitCode = 1;
    throw reason instanceof Error ? reason : new Error(String(reason));
});
