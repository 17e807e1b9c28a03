// The configuration module's public surface.
export { loadConfig, validateConfigCommand, type LoadOptions, type LoadedConfig, type Environment, type ValidateConfigResult } from './load.js';
export { ConfigError, formatProblem, type ConfigProblem } from './problems.js';
export { resolveCookies, findCookieForHost, hostIsWithin, isLocalhostDomain } from './cookies.js';
export { validateSemantics, cookieDomainProblem } from './validate.js';
export { AUTHELIA_UNSUPPORTED_KEYS } from './authelia-unsupported.js';
export { SECRET_KEY_PATHS, ENV_PREFIX } from './env.js';
export { parseDuration } from './duration.js';
export type { Config, RawConfig, CookieConfig, AccessControlConfig, RuleConfig, Policy, TlsConfig } from './schema.js';
