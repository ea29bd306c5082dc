/** The last lines of a command's output, on one line: enough to say why it failed, never a page. */
export const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' ').slice(-600);
