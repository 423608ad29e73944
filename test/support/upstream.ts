// The config that serves test/fixtures/upstream (the project's stand-in for edx/api-manager's
// document): its mirror, its hosts and other stage variables, its open routes.
import * as path from "path";

export const PROJECT = path.resolve(__dirname, "..", "..", "..");
export const UPSTREAM_SPEC = "test/fixtures/upstream/api.yaml";
export const UPSTREAM_MIRRORS = { "https://specs.example.org/": "test/fixtures/upstream/mirror/specs.example.org/" };
export const UPSTREAM_PUBLIC = ["GET /", "GET /status", "ANY /shelves/login"];
export const UPSTREAM_HOSTS = {
    catalog_host: "catalog.library.example.org",
    reports_host: "reports.library.example.org",
    lms_host: "lms.library.example.org",
    shelves_host: "shelves.library.example.org",
    public_host: "api.library.example.org",
    upload_host: "scans.library.example.org",
};
export const UPSTREAM_STAGE_VARIABLES = { portal_url: "https://developers.library.example.org/" };

/** `--set`s (as preview overrides) that serve the upstream document from a stack. */
export function upstreamOverrides(extra: Record<string, string | null> = {}): Record<string, string | null> {
    return {
        "gateway:spec": UPSTREAM_SPEC,
        "gateway:specMirrors": JSON.stringify(UPSTREAM_MIRRORS),
        "gateway:hosts": JSON.stringify(UPSTREAM_HOSTS),
        "gateway:stageVariables": JSON.stringify(UPSTREAM_STAGE_VARIABLES),
        "gateway:publicRoutes": JSON.stringify(UPSTREAM_PUBLIC),
        ...extra,
    };
}
