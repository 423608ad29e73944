// The media type rule config and the document share: API Gateway's binary media types are type/subtype,
// wildcards allowed. A leaf module, so the live pointer's program reads config without the document's modules.
/** type/subtype as API Gateway's binaryMediaTypes take it, wildcards allowed (image/*, *\/*). */
export const MEDIA_TYPE = /^[A-Za-z0-9*!#$&^_.+-]+\/[A-Za-z0-9*!#$&^_.+-]+$/;
