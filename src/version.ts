/** Name and version reported in events and requests. */
export const SDK_NAME: string = 'saltshard';
/** Keep in step with package.json. */
export const SDK_VERSION: string = '0.1.0';
