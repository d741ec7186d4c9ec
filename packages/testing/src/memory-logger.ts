// A winston logger that keeps its lines in memory, so a test can assert what was logged (and keep expected
// errors off the console).
import winston from 'winston';
import Transport from 'winston-transport';

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

class Memory extends Transport {
  constructor(private readonly sink: LogLine[]) {
    super();
  }

  override log(info: LogLine, next: () => void) {
    this.sink.push(info);
    next();
  }
}

export function memoryLogger(): { logger: winston.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { logger: winston.createLogger({ level: 'debug', transports: [new Memory(lines)] }), lines };
}
