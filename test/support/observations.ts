// The config that serves test/fixtures/gateway-rules/observations.yaml (the local gateway's fixture of
// request validators and gateway responses): its hosts and stage variable, as preview overrides.
export const OBSERVATIONS_SPEC = "test/fixtures/gateway-rules/observations.yaml";
export const OBSERVATIONS_HOSTS = { observations_host: "observations.birds.example.org", archive_host: "archive.birds.example.org" };
export const OBSERVATIONS_SCHEMA_VERSION = "2026-12";

/** `--set`s (as preview overrides) that serve the observations fixture from a stack. */
export function observationsOverrides(extra: Record<string, string | null> = {}): Record<string, string | null> {
    return {
        "gateway:spec": OBSERVATIONS_SPEC,
        "gateway:hosts": JSON.stringify(OBSERVATIONS_HOSTS),
        "gateway:stageVariables": JSON.stringify({ schema_version: OBSERVATIONS_SCHEMA_VERSION }),
        "gateway:publicRoutes": "[]",
        ...extra,
    };
}
