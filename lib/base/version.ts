/** The proxy's version, printed by `main.ts --version` and exported as `lb_build_info`. */
export const VERSION = "0.1.0";
