import { writeFile } from 'node:fs/promises';

/** The one place the simulator touches the file system: writing the HTML report. */
export async function writeReport(path: string, html: string): Promise<void> {
  await writeFile(path, html, 'utf8');
}
