// Loaded by mocha before any test (see .mocharc.json).
// Closure serialization errors in aws.lambda.CallbackFunction surface only as unhandled
// promise rejections; make every one of them fail the run instead of scrolling past.
process.on("unhandledRejection", (reason) => {
    console.error("unhandled promise rejection:", reason);
    process.exitCode = 1;
    throw reason instanceof Error ? reason : new Error(String(reason));
});
