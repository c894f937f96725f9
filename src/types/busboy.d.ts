// busboy 1.6 ships no types; this declares the part of its API that src/api/http/body.ts uses
// (the project adds one dependency for multipart, so not @types/busboy as well).
declare module 'busboy' {
  import type { IncomingHttpHeaders } from 'node:http';
  import type { Readable, Writable } from 'node:stream';

  namespace busboy {
    interface Limits {
      fieldNameSize?: number;
      fieldSize?: number;
      fields?: number;
      fileSize?: number;
      files?: number;
      parts?: number;
      headerPairs?: number;
    }
    interface Config {
      headers: IncomingHttpHeaders;
      limits?: Limits;
      defCharset?: string;
      defParamCharset?: string;
      preservePath?: boolean;
    }
    interface FieldInfo {
      nameTruncated: boolean;
      valueTruncated: boolean;
      encoding: string;
      mimeType: string;
    }
    interface FileInfo {
      filename: string | undefined;
      encoding: string;
      mimeType: string;
    }
    interface Busboy extends Writable {
      // A part may have no name parameter: busboy then passes undefined.
      on(event: 'field', listener: (name: string | undefined, value: string, info: FieldInfo) => void): this;
      on(event: 'file', listener: (name: string | undefined, stream: Readable, info: FileInfo) => void): this;
      on(event: 'fieldsLimit' | 'filesLimit' | 'partsLimit' | 'finish' | 'close', listener: () => void): this;
      on(event: 'error', listener: (error: Error) => void): this;
    }
  }

  /** Throws for a Content-Type it cannot read (such as multipart/form-data without a boundary). */
  function busboy(config: busboy.Config): busboy.Busboy;
  export = busboy;
}
