// oidc-provider ships no types; the OIDC spec uses its constructor and callback() only.
declare module "oidc-provider" {
  const Provider: new (issuer: string, configuration: unknown) => { callback(): import("node:http").RequestListener };
  export default Provider;
}
