package org.bitengine.io.npy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bitengine.io.IoErrors;

/**
 * A parser for the small subset of Python literal syntax that appears in {@code .npy} headers
 * (numpy reads them with {@code ast.literal_eval}): dicts, tuples, lists, strings, integers,
 * {@code True}/{@code False}/{@code None}.
 *
 * <p>Values map to String, Boolean, BigInteger, {@link Tuple}, {@code List<Object>},
 * {@code Map<Object, Entry>} and {@link #NONE}. Integers are BigIntegers so that an absurd dimension
 * in a corrupt header becomes a clear error rather than a silent overflow. Dict values keep the
 * source text they were parsed from, so an error can quote an unsupported descr exactly as written.
 */
final class PyLiteral {

    /** A Python tuple; distinct from a list because numpy requires the shape to be a tuple. */
    record Tuple(List<Object> items) {
    }

    /** A dict value and the literal text it came from. */
    record Entry(Object value, String text) {
    }

    /** Python's None. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    /** A syntax error; the caller turns it into a message naming the file. */
    static final class SyntaxError extends Exception {
        SyntaxError(String message) {
            super(message, null, false, false);
        }
    }

    // Nesting deeper than this is no header numpy writes, and unbounded recursion on a corrupt
    // file would end in a StackOverflowError instead of a message.
    private static final int MAX_DEPTH = 32;

    private final String s;
    private int pos;

    private PyLiteral(String s) {
        this.s = s;
    }

    /** Parses {@code text} as one literal followed only by whitespace. */
    static Object parse(String text) throws SyntaxError {
        PyLiteral p = new PyLiteral(text);
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw p.unexpected("end of header");
        }
        return v;
    }

    private Object value(int depth) throws SyntaxError {
        if (depth > MAX_DEPTH) {
            throw new SyntaxError("nesting deeper than " + MAX_DEPTH);
        }
        skipWs();
        if (pos >= s.length()) {
            throw new SyntaxError("header ends where a value was expected");
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return dict(depth);
            case '(': {
                pos++;
                return new Tuple(sequence(')', depth, true));
            }
            case '[': {
                pos++;
                return sequence(']', depth, false);
            }
            case '\'', '"':
                return string();
            default:
                break;
        }
        if (c == '-' || c == '+' || (c >= '0' && c <= '9')) {
            return integer();
        }
        if ((c == 'u' || c == 'b' || c == 'U' || c == 'B') && pos + 1 < s.length()
                && (s.charAt(pos + 1) == '\'' || s.charAt(pos + 1) == '"')) {
            // Python 2 era headers may spell strings u'...'; the prefix does not change the value.
            pos++;
            return string();
        }
        if (Character.isLetter(c)) {
            int start = pos;
            while (pos < s.length() && Character.isLetterOrDigit(s.charAt(pos))) {
                pos++;
            }
            String word = s.substring(start, pos);
            return switch (word) {
                case "True" -> Boolean.TRUE;
                case "False" -> Boolean.FALSE;
                case "None" -> NONE;
                default -> throw new SyntaxError("unknown name '" + IoErrors.quote(word, 40)
                        + "' at position " + start);
            };
        }
        throw unexpected("a value");
    }

    private Map<Object, Entry> dict(int depth) throws SyntaxError {
        pos++; // '{'
        Map<Object, Entry> map = new LinkedHashMap<>();
        while (true) {
            skipWs();
            if (peek('}')) {
                pos++;
                return map;
            }
            Object key = value(depth + 1);
            if (key instanceof List || key instanceof Map) {
                throw new SyntaxError("unhashable dict key at position " + pos);
            }
            skipWs();
            expect(':');
            skipWs();
            int start = pos;
            Object v = value(depth + 1);
            if (map.put(key, new Entry(v, s.substring(start, pos))) != null) {
                throw new SyntaxError("duplicate key " + key);
            }
            skipWs();
            if (peek(',')) {
                pos++;
            } else if (!peek('}')) {
                throw unexpected("',' or '}'");
            }
        }
    }

    private List<Object> sequence(char close, int depth, boolean tuple) throws SyntaxError {
        List<Object> items = new ArrayList<>();
        boolean sawComma = false;
        while (true) {
            skipWs();
            if (peek(close)) {
                pos++;
                // "(5)" is the integer 5 in Python, not a tuple; numpy would then reject the shape.
                if (tuple && items.size() == 1 && !sawComma) {
                    throw new SyntaxError("parenthesised value is not a tuple (a 1-tuple needs a comma)");
                }
                return items;
            }
            items.add(value(depth + 1));
            skipWs();
            if (peek(',')) {
                pos++;
                sawComma = true;
            } else if (!peek(close)) {
                throw unexpected("',' or '" + close + "'");
            }
        }
    }

    private String string() throws SyntaxError {
        char quote = s.charAt(pos++);
        StringBuilder sb = new StringBuilder();
        while (pos < s.length()) {
            char c = s.charAt(pos++);
            if (c == quote) {
                return sb.toString();
            }
            if (c == '\n') {
                break;
            }
            if (c == '\\' && pos < s.length()) {
                char e = s.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case '0' -> sb.append('\0');
                    default -> sb.append(e); // \\ \' \" and anything else: keep the character
                }
            } else {
                sb.append(c);
            }
        }
        throw new SyntaxError("unterminated string");
    }

    private BigInteger integer() throws SyntaxError {
        int start = pos;
        if (peek('-') || peek('+')) {
            pos++;
        }
        int digits = pos;
        while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
            pos++;
        }
        if (pos == digits) {
            throw unexpected("a digit");
        }
        if (pos - digits > 100) {
            throw new SyntaxError("integer with more than 100 digits at position " + start);
        }
        BigInteger v = new BigInteger(s.substring(start, pos));
        // Python 2 wrote long integers as 3L; numpy still reads such headers.
        if (peek('L') || peek('l')) {
            pos++;
        }
        return v;
    }

    private void skipWs() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
                return;
            }
            pos++;
        }
    }

    private boolean peek(char c) {
        return pos < s.length() && s.charAt(pos) == c;
    }

    private void expect(char c) throws SyntaxError {
        if (!peek(c)) {
            throw unexpected("'" + c + "'");
        }
        pos++;
    }

    private SyntaxError unexpected(String wanted) {
        if (pos >= s.length()) {
            return new SyntaxError("header ends where " + wanted + " was expected");
        }
        return new SyntaxError("expected " + wanted + " at position " + pos + " but found '"
                + IoErrors.quote(String.valueOf(s.charAt(pos)), 1) + "'");
    }
}
