// Types of runtimes-left.mjs (plain JavaScript: jest loads it before any transform).
/** The environment variable naming the directory of running runtimes' pid files. */
export declare const RUNTIMES_DIR: string;
export declare function setup(): Promise<void>;
export declare function teardown(): Promise<void>;
