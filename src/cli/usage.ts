/** Bad usage: the message, the command's usage, exit 2. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`eci-policy: ${message}\n\n${usage}\n`);
  process.exit(2);
}
