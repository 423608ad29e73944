// What API Gateway's OpenAPI import would refuse of a model, made right before the body is put: a model
// is JSON Schema draft 4 ("Amazon API Gateway important notes for REST APIs"), whose `required` is a
// list of names on the object, while upstream documents (edx/api-manager's among them) write Swagger
// 1.2's property-level `required: true`. PutRestApi cannot create such a model and warns (the mock
// cloud's apigateway.import-warnings, preview/aws-rules/rest-api-import.ts, cites the sources); the
// slot imports with failOnWarnings, so each one is moved to its object's list here, which is what the
// document means and what swagger-codegen's flatten (edx's own pipeline) writes. The preview lists
// what was moved.
import { Json, isObject, pointer } from "./document";

function isRequiredList(value: unknown): value is string[] {
    return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string");
}

/**
 * Moves every property-level `required: true` of `doc` to its object's `required` list, drops a
 * property-level `required: false` and an empty list; returns "<property> at <pointer of its object>"
 * for each property now required.
 */
export function moveRequiredToObjects(doc: Json): string[] {
    const moved: string[] = [];
    const walk = (value: unknown, at: (string | number)[]): void => {
        if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, i]));
        if (!isObject(value)) return;
        if (isObject(value.properties)) {
            const names = isRequiredList(value.required) ? [...value.required] : [];
            for (const [name, property] of Object.entries(value.properties)) {
                if (!isObject(property) || !("required" in property) || isRequiredList(property.required)) continue;
                if (property.required === true && !names.includes(name)) {
                    names.push(name);
                    moved.push(`${name} at ${pointer(...at)}`);
                }
                delete property.required;
            }
            if (names.length > 0) value.required = names;
            else delete value.required;
        }
        for (const [key, child] of Object.entries(value)) walk(child, [...at, key]);
    };
    walk(doc, []);
    return moved;
}
