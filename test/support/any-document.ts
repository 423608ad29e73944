// The config that serves each of test/fixtures/any-document (API Gateway documents written for this
// project from AWS's extension reference): their stage variables, as preview overrides.
export const ANY_DOCUMENT = {
    photos: {
        spec: "test/fixtures/any-document/photos.yaml",
        hosts: { albums_host: "albums.photos.example.org", legacy_host: "legacy.photos.example.org" },
        stageVariables: {} as Record<string, string>,
    },
    pets: {
        spec: "test/fixtures/any-document/pets.yaml",
        hosts: {} as Record<string, string>,
        stageVariables: { register_function: "register-pet" } as Record<string, string>,
    },
    orders: {
        spec: "test/fixtures/any-document/orders-oas3.yaml",
        hosts: { billing_host: "billing.orders.example.org" },
        stageVariables: {
            orders_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:orders:prod",
            storefront_authorizer: "storefront-check",
        } as Record<string, string>,
    },
};

export type AnyDocument = keyof typeof ANY_DOCUMENT;

/** `--set`s (as preview overrides) that serve one of the fixtures from a stack. */
export function anyDocumentOverrides(name: AnyDocument, extra: Record<string, string | null> = {}): Record<string, string | null> {
    const fixture = ANY_DOCUMENT[name];
    return {
        "gateway:spec": fixture.spec,
        "gateway:hosts": JSON.stringify(fixture.hosts),
        "gateway:stageVariables": JSON.stringify(fixture.stageVariables),
        "gateway:publicRoutes": "[]",
        ...extra,
    };
}
