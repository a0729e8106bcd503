/**
 * The editor commands. Each one forwards to a language-server command through
 * `workspace/executeCommand` and shows the result; none of them understands dspx itself.
 *
 * The one argument sent to every server command is a `CommandTarget` object:
 *   dspx.compile   { uri }                       compile the file (like `dspxc compile`)
 *   dspx.estimate  { uri, position }             estimates for the program at the cursor (or the file)
 *   dspx.showPrompt{ uri, position }             the rendered prompt of the step/program at the cursor
 *   dspx.runTest   { uri, position, name? }      the test named `name`, else the one at `position`
 * `uri` is the document URI as a string, `position` is 0-based LSP {line, character}.
 * The client commands `dspx.showEstimates`, `dspx.showPromptAtCursor` and `dspx.runTestAtCursor`
 * take an optional `CommandTarget`: the server's code lenses pass their own (with the
 * `clientCommands` initialization option), so a lens acts on its declaration, not the cursor's.
 *
 * Results the server may return: nothing (a "done" message), a string (shown as a document),
 * or an object with any of `message` (a notification, `severity` "error" | "warning" | "info"),
 * `content` (shown as a document, in `language`, default plaintext) and `title`.
 * Anything else is shown as pretty-printed JSON.
 */
import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node';

export interface CommandTarget {
  uri: string;
  position?: { line: number; character: number };
  name?: string;
}

interface ServerResult {
  title?: string;
  message?: string;
  severity?: 'error' | 'warning' | 'info';
  content?: string;
  language?: string;
}

const RESULT_SCHEME = 'dspx-result';

/** A `test NAME for ...` header at column 0, like every top-level declaration `dspxc fmt` writes. */
const TEST_HEADER = /^test\s+([A-Za-z_][A-Za-z0-9_]*)\b/;
const TOP_LEVEL = /^(?:import|model|enum|class|signature|tool|dataset|program|test)\b/;

/** Read-only documents that show command results (prompts, estimates, test output). */
class ResultDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  async show(title: string, content: string, language: string): Promise<void> {
    const extension = language === 'markdown' ? 'md' : language === 'json' ? 'json' : 'txt';
    const uri = vscode.Uri.from({ scheme: RESULT_SCHEME, path: `/${title}.${extension}` });
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(document, language);
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }
}

export function registerCommands(getClient: () => LanguageClient | undefined): vscode.Disposable[] {
  const results = new ResultDocuments();

  async function forward(serverCommand: string, title: string, target: CommandTarget): Promise<void> {
    const client = getClient();
    if (client === undefined || !client.isRunning()) {
      const choice = await vscode.window.showWarningMessage(
        `dspx: ${title} needs the language server, which is not running.`,
        'Restart Server',
      );
      if (choice === 'Restart Server') {
        await vscode.commands.executeCommand('dspx.restartServer');
      }
      return;
    }
    try {
      const result: unknown = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `dspx: ${title}` },
        () => client.sendRequest(ExecuteCommandRequest.type, { command: serverCommand, arguments: [target] }),
      );
      await showResult(results, title, result);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(`dspx: ${title} failed: ${message}`);
    }
  }

  return [
    vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, results),
    vscode.commands.registerCommand('dspx.compileFile', async () => {
      const editor = activeDspxEditor();
      if (editor !== undefined) {
        await forward('dspx.compile', 'Compile', { uri: editor.document.uri.toString() });
      }
    }),
    vscode.commands.registerCommand('dspx.showEstimates', async (given?: unknown) => {
      const target = givenOrCursor(given);
      if (target !== undefined) {
        await forward('dspx.estimate', titled('Estimate', target), target);
      }
    }),
    vscode.commands.registerCommand('dspx.showPromptAtCursor', async (given?: unknown) => {
      const target = givenOrCursor(given);
      if (target !== undefined) {
        await forward('dspx.showPrompt', titled('Prompt', target), target);
      }
    }),
    // A code lens passes its own target; from the palette the test comes from the cursor.
    vscode.commands.registerCommand('dspx.runTestAtCursor', async (given?: unknown) => {
      if (isCommandTarget(given)) {
        await forward('dspx.runTest', titled('Test', given), given);
        return;
      }
      const editor = activeDspxEditor();
      if (editor === undefined) {
        return;
      }
      const name = testAt(editor.document, editor.selection.active.line);
      if (name === undefined) {
        void vscode.window.showInformationMessage(
          'dspx: no test at the cursor. Put the cursor inside a `test NAME for PROGRAM { ... }` block.',
        );
        return;
      }
      await forward('dspx.runTest', `Test ${name}`, { ...cursorTarget(editor), name });
    }),
  ];
}

function activeDspxEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.languageId !== 'dspx') {
    void vscode.window.showInformationMessage('dspx: open a .dspx file first.');
    return undefined;
  }
  return editor;
}

/**
 * A code lens's argument: an object with a string `uri`, as the server sends. The editor's
 * context menu passes the document's `vscode.Uri` instead, which is not one: the cursor decides.
 */
function isCommandTarget(value: unknown): value is CommandTarget {
  return typeof value === 'object' && value !== null && typeof (value as { uri?: unknown }).uri === 'string';
}

/** The lens's own target when one was given, else the cursor of the active dspx editor. */
function givenOrCursor(given: unknown): CommandTarget | undefined {
  if (isCommandTarget(given)) {
    return given;
  }
  const editor = activeDspxEditor();
  return editor === undefined ? undefined : cursorTarget(editor);
}

function titled(verb: string, target: CommandTarget): string {
  return typeof target.name === 'string' ? `${verb} ${target.name}` : verb;
}

function cursorTarget(editor: vscode.TextEditor): CommandTarget {
  const { line, character } = editor.selection.active;
  return { uri: editor.document.uri.toString(), position: { line, character } };
}

/** The test whose block contains `line`: the nearest top-level declaration above it, if it is a test. */
function testAt(document: { lineAt(line: number): { text: string } }, line: number): string | undefined {
  for (let current = line; current >= 0; current -= 1) {
    const text = document.lineAt(current).text;
    if (TOP_LEVEL.test(text)) {
      return TEST_HEADER.exec(text)?.[1];
    }
  }
  return undefined;
}

async function showResult(results: ResultDocuments, title: string, result: unknown): Promise<void> {
  if (result === null || result === undefined) {
    void vscode.window.showInformationMessage(`dspx: ${title}: done.`);
    return;
  }
  if (typeof result === 'string') {
    await results.show(title, result, 'plaintext');
    return;
  }
  const shaped = result as ServerResult;
  if (typeof shaped.message !== 'string' && typeof shaped.content !== 'string') {
    await results.show(title, JSON.stringify(result, null, 2), 'json');
    return;
  }
  if (typeof shaped.message === 'string') {
    const notify =
      shaped.severity === 'error'
        ? vscode.window.showErrorMessage
        : shaped.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void notify(`dspx: ${shaped.message}`);
  }
  if (typeof shaped.content === 'string') {
    await results.show(shaped.title ?? title, shaped.content, shaped.language ?? 'plaintext');
  }
}
