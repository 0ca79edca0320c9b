package dev.alma;

/**
 * Base of every exception this library throws on purpose: bad input files, bad arguments, unsupported
 * features. Callers that want to catch "anything alma rejected" catch this one type.
 */
public class AlmaException extends RuntimeException {
    public AlmaException(String message) {
        super(message);
    }

    public AlmaException(String message, Throwable cause) {
        super(message, cause);
    }
}
