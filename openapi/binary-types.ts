// The media types API Gateway passes through as binary: the document's
// x-amazon-apigateway-binary-media-types merged with gateway:binaryMediaTypes. Config adds, never
// removes: a JPEG upload API whose document lists image/jpeg keeps it, or API Gateway would treat
// uploaded JPEGs as text and corrupt them (developer guide, "Content type conversions in API
// Gateway", api-gateway-payload-encodings). The merged list goes into the body, which is what
// PutRestApi imports, and the RestApi's binaryMediaTypes argument gets the same list: the provider
// applies its argument after the import and would otherwise replace the body's
// (terraform-provider-aws internal/service/apigateway/rest_api.go, resourceRestAPIWithBodyUpdateOperations).
import { MEDIA_TYPE } from "../config/media-type";
import { Json, SpecProblem, pointer } from "./document";

export const BINARY_MEDIA_TYPES = "x-amazon-apigateway-binary-media-types";

export interface BinaryMediaTypes {
    /** The document's, then config's that the document lacks (compared without case, as media types are). */
    merged: string[];
    fromDocument: string[];
    fromConfig: string[];
}

/** Merges config's types into the document's list, in the document; every entry that is no media type is an error. */
export function mergeBinaryMediaTypes(doc: Json, configured: string[], errors: SpecProblem[]): BinaryMediaTypes {
    const declared = doc[BINARY_MEDIA_TYPES];
    const fromDocument: string[] = [];
    if (declared !== undefined && !Array.isArray(declared)) {
        errors.push({ pointer: pointer(BINARY_MEDIA_TYPES), message: `${JSON.stringify(declared)} is not a list; expected a list of media types such as [image/jpeg, image/png]` });
    }
    (Array.isArray(declared) ? declared : []).forEach((type: unknown, i) => {
        if (typeof type === "string" && MEDIA_TYPE.test(type)) fromDocument.push(type);
        else errors.push({ pointer: pointer(BINARY_MEDIA_TYPES, i), message: `${JSON.stringify(type)} is not a media type; expected type/subtype such as image/jpeg (wildcards allowed: image/*, */*)` });
    });
    const seen = new Set(fromDocument.map((t) => t.toLowerCase()));
    const fromConfig = configured.filter((t) => !seen.has(t.toLowerCase()) && seen.add(t.toLowerCase()));
    const merged = [...fromDocument, ...fromConfig];
    if (merged.length > 0) doc[BINARY_MEDIA_TYPES] = merged;
    return { merged, fromDocument, fromConfig };
}

/** "image/jpeg, image/png (the document's), multipart/form-data (gateway:binaryMediaTypes)". */
export function describeBinaryMediaTypes(types: BinaryMediaTypes): string {
    const parts = [
        types.fromDocument.length > 0 ? `${types.fromDocument.join(", ")} (the document's)` : "",
        types.fromConfig.length > 0 ? `${types.fromConfig.join(", ")} (gateway:binaryMediaTypes)` : "",
    ].filter((p) => p !== "");
    return `binary media types: ${parts.length > 0 ? parts.join(", ") : "none"}`;
}
