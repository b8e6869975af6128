package org.bitengine.engine;

/**
 * A failure the user can act on: bad input, a missing key, a wrong shape, an unusable device.
 *
 * <p>The message is one line that says what is wrong, which file/key/shape, and what to do. The CLI
 * prints only that line (no stack trace unless {@code --verbose}) and exits with code 2. Anything
 * that is not a {@code BitEngineException} is a bug in bit-engine and is reported as such.
 */
public class BitEngineException extends RuntimeException {

    public BitEngineException(String message) {
        super(message);
    }

    public BitEngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
