/**
 * One final, unmasked text frame (RFC 6455 §5.2) whose payload is `parts` in order, in one
 * buffer: what `ws` writes for a server socket's `send` of the same text when no extension
 * was negotiated, as two writes (a header and the string encoded on the way out).
 */
export function textFrame(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  let at = header;
  for (const p of parts) at += p.copy(frame, at);
  return frame;
}
