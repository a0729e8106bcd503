/**
 * dspx for VS Code: starts the dspx language server (`dspxc lsp`, over stdio) for `.dspx`
 * files and registers the editor commands. Everything that understands the language lives
 * in the server; this module only decides how to launch it, (re)starts it, and says
 * clearly what to do when it cannot be found.
 *
 * Invariants: at most one client runs at a time; a missing server never throws out of
 * `activate` (highlighting and snippets keep working without it).
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions } from 'vscode-languageclient/node';
import which from 'which';
import { registerCommands } from './commands';

/** A resolved way to start the server: an executable and its arguments. */
interface Launch {
  command: string;
  args: string[];
  /** Which setting produced it, for error messages. */
  setting: 'dspx.server.pythonPath' | 'dspx.server.command';
}

let client: LanguageClient | undefined;
/** Restarts run one after another, so two quick setting changes cannot start two servers. */
let restarting: Promise<void> = Promise.resolve();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand('dspx.restartServer', () => restart(context)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('dspx.server')) {
        void restart(context);
      }
    }),
    ...registerCommands(() => client),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}

function restart(context: vscode.ExtensionContext): Promise<void> {
  restarting = restarting.then(async () => {
    await stop();
    await start(context);
  });
  return restarting;
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running?.needsStop()) {
    await running.stop();
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const launch = launchFromSettings(vscode.workspace.getConfiguration('dspx'));
  const executable = await which(launch.command, { nothrow: true });
  if (executable === null) {
    void reportMissingServer(context, launch);
    return;
  }
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'dspx' },
      { scheme: 'untitled', language: 'dspx' },
    ],
    // The server's code lenses then call this extension's commands, which show the results
    // (the server's own commands only return them). The server checks for exactly `true`.
    initializationOptions: { clientCommands: true },
    // Imported files and datasets change diagnostics of the files that use them.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{dspx,jsonl,json,csv}'),
    },
  };
  // The client id `dspx` makes vscode-languageclient honour the `dspx.trace.server` setting.
  const next = new LanguageClient(
    'dspx',
    'dspx Language Server',
    { command: executable, args: launch.args, transport: TransportKind.stdio },
    clientOptions,
  );
  client = next;
  try {
    await next.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `dspx: the language server (${[executable, ...launch.args].join(' ')}) failed to start: ${message}`,
      'Show Output',
      'Open Settings',
    );
    if (choice === 'Show Output') {
      next.outputChannel.show();
    } else if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'dspx.server');
    }
  }
}

/** `pythonPath` wins over `command`; a string command is the path of `dspxc`, an array a whole command line. */
function launchFromSettings(config: vscode.WorkspaceConfiguration): Launch {
  const python = config.get<string>('server.pythonPath', '').trim();
  if (python !== '') {
    return { command: expand(python), args: ['-m', 'dspx_lang', 'lsp'], setting: 'dspx.server.pythonPath' };
  }
  const configured = config.get<string | string[]>('server.command', 'dspxc');
  if (Array.isArray(configured) && configured.length > 0) {
    const [command, ...args] = configured.map(expand);
    return { command, args, setting: 'dspx.server.command' };
  }
  const command = typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'dspxc';
  return { command: expand(command), args: ['lsp'], setting: 'dspx.server.command' };
}

/** Expands `~` and `${workspaceFolder}`, the two forms people write for a project's virtualenv. */
function expand(value: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  return value.replace(/^~(?=$|[/\\])/, os.homedir()).replaceAll('${workspaceFolder}', folder);
}

async function reportMissingServer(context: vscode.ExtensionContext, launch: Launch): Promise<void> {
  const choice = await vscode.window.showErrorMessage(
    `dspx: cannot find the language server '${launch.command}' (from ${launch.setting}). ` +
      'Install it with `pip install dspx` in the Python environment you use, ' +
      'or set dspx.server.command to the path of dspxc (or dspx.server.pythonPath to a Python that has dspx). ' +
      'Highlighting and snippets work without it.',
    'How to Install',
    'Open Settings',
  );
  if (choice === 'How to Install') {
    const readme = vscode.Uri.joinPath(context.extensionUri, 'README.md');
    await vscode.commands.executeCommand('markdown.showPreview', readme);
  } else if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'dspx.server');
  }
}
