// The offline preview as the tests run it: a stack's preview that must fail, with what it says.
import * as assert from "assert";
import { OfflinePreviewError, previewStack } from "../../preview/cli";

/** The details of the preview's failure; fails the test when the preview goes through. */
export function previewFails(stack: string, overrides: Record<string, string | null>): string {
    try {
        previewStack(stack, { overrides });
    } catch (e) {
        assert.ok(e instanceof OfflinePreviewError, String(e));
        return e.details;
    }
    throw new Error("the preview went through");
}
