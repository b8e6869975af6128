package org.bitengine.io.json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bitengine.engine.BitEngineException;
import org.bitengine.io.IoErrors;

/**
 * A small JSON reader and writer for the files bit-engine writes itself (run configurations, metrics
 * lines) and for reference fixtures.
 *
 * <p>Reading maps objects to {@link LinkedHashMap} (key order kept), arrays to {@link ArrayList},
 * strings to {@link String}, every number to {@link Double}, {@code true}/{@code false} to
 * {@link Boolean} and {@code null} to {@code null}. The number text is converted by
 * {@link Double#parseDouble}, which rounds correctly, so a shortest round-trip decimal written by
 * Python ({@code 0.00030000000000000003}) gives back exactly the double Python printed.
 *
 * <p>Writing accepts those types plus any other {@link Number} ({@link Integer}, {@link Long},
 * {@link Float}), {@link Collection}s, arrays of primitives and {@link Map}s with string keys.
 * Integral types are written as integers; a double as its shortest round-trip decimal
 * ({@link Double#toString}, which since JDK 19 yields the shortest decimal that reads back to the same
 * double), with a lower-case exponent ({@code 3.0e-5}). JSON has no NaN or infinity: those are written
 * as {@code null}.
 */
public final class Json {

    private Json() {}

    // ---------------------------------------------------------------------------------------------
    // Reading

    /**
     * Parses one JSON value; {@code source} names the text in the error message (a file path, or
     * {@code "line 3 of metrics.jsonl"}).
     *
     * @throws BitEngineException naming the source, line and column of the first syntax error
     */
    public static Object parse(String text, String source) {
        Parser p = new Parser(text, source);
        p.skipWhitespace();
        Object value = p.value(0);
        p.skipWhitespace();
        if (p.pos < text.length()) throw p.error("unexpected " + shown(text.charAt(p.pos)) + " after the value");
        return value;
    }

    /** {@link #parse(String, String)} with the source called "JSON text". */
    public static Object parse(String text) {
        return parse(text, "JSON text");
    }

    /** Reads and parses a UTF-8 JSON file. */
    public static Object read(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            throw new BitEngineException(file + ": no such file; check the path");
        } catch (IOException e) {
            throw new BitEngineException(file + ": cannot read: " + e.getMessage() + "; check the path and permissions");
        }
    }

    /** Parses text whose top-level value must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text, String source) {
        Object v = parse(text, source);
        if (!(v instanceof Map<?, ?>)) {
            throw new BitEngineException(source + ": expected a JSON object ({...}), found " + typeName(v));
        }
        return (Map<String, Object>) v;
    }

    /** Reads a file whose top-level value must be an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readObject(Path file) {
        Object v = read(file);
        if (!(v instanceof Map<?, ?>)) {
            throw new BitEngineException(file + ": expected a JSON object ({...}), found " + typeName(v));
        }
        return (Map<String, Object>) v;
    }

    /**
     * A character from the text as an error message shows it: printable ASCII quoted, anything else
     * (a line break would split the one-line message) as its code point.
     */
    private static String shown(char c) {
        return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    private static String typeName(Object v) {
        if (v == null) return "null";
        if (v instanceof List<?>) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Double) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return v.getClass().getSimpleName();
    }

    private static final class Parser {
        /** Nesting deeper than this is refused rather than overflowing the stack. */
        private static final int MAX_DEPTH = 512;

        private final String text;
        private final String source;
        private int pos;

        Parser(String text, String source) {
            this.text = text;
            this.source = source;
        }

        Object value(int depth) {
            if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH + " levels");
            if (pos >= text.length()) throw error("unexpected end of the text, expected a value");
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(depth);
                case '[' -> array(depth);
                case '"' -> string();
                case 't' -> literal("true", Boolean.TRUE);
                case 'f' -> literal("false", Boolean.FALSE);
                case 'n' -> literal("null", null);
                default -> {
                    if (c == '-' || (c >= '0' && c <= '9')) yield number();
                    throw error("unexpected " + shown(c) + ", expected a value");
                }
            };
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> map = new LinkedHashMap<>();
            pos++; // {
            skipWhitespace();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (peek() != '"') throw error("expected a string key");
                int keyAt = pos;
                String key = string();
                skipWhitespace();
                expect(':');
                skipWhitespace();
                Object v = value(depth + 1);
                if (map.containsKey(key)) {
                    pos = keyAt;
                    throw error("duplicate key \"" + key + "\"");
                }
                map.put(key, v);
                skipWhitespace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == '}') {
                    pos++;
                    return map;
                } else {
                    throw error("expected ',' or '}' in an object");
                }
            }
        }

        private List<Object> array(int depth) {
            List<Object> list = new ArrayList<>();
            pos++; // [
            skipWhitespace();
            if (peek() == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                list.add(value(depth + 1));
                skipWhitespace();
                char c = peek();
                if (c == ',') {
                    pos++;
                } else if (c == ']') {
                    pos++;
                    return list;
                } else {
                    throw error("expected ',' or ']' in an array");
                }
            }
        }

        private String string() {
            pos++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= text.length()) throw error("unterminated string");
                char c = text.charAt(pos++);
                if (c == '"') return sb.toString();
                if (c < 0x20) {
                    pos--;
                    throw error("control character U+" + String.format("%04X", (int) c) + " in a string (escape it)");
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (pos >= text.length()) throw error("unterminated escape");
                char e = text.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) throw error("incomplete \\u escape");
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(text.charAt(pos + i), 16);
                            if (d < 0) throw error("bad hex digit in a \\u escape");
                            code = code * 16 + d;
                        }
                        pos += 4;
                        sb.append((char) code);
                    }
                    default -> {
                        pos--;
                        throw error("unknown escape: a backslash before " + shown(e));
                    }
                }
            }
        }

        private Double number() {
            int start = pos;
            if (peek() == '-') pos++;
            if (peek() == '0') {
                pos++;
            } else if (isDigit(peek())) {
                while (isDigit(peek())) pos++;
            } else {
                throw error("expected a digit");
            }
            if (peek() == '.') {
                pos++;
                if (!isDigit(peek())) throw error("expected a digit after '.'");
                while (isDigit(peek())) pos++;
            }
            if (peek() == 'e' || peek() == 'E') {
                pos++;
                if (peek() == '+' || peek() == '-') pos++;
                if (!isDigit(peek())) throw error("expected a digit in the exponent");
                while (isDigit(peek())) pos++;
            }
            return Double.parseDouble(text.substring(start, pos));
        }

        private Object literal(String word, Object value) {
            if (!text.startsWith(word, pos)) throw error("unexpected " + shown(text.charAt(pos)) + ", expected a value");
            pos += word.length();
            return value;
        }

        private void expect(char c) {
            if (peek() != c) throw error("expected '" + c + "'");
            pos++;
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
                pos++;
            }
        }

        BitEngineException error(String what) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < Math.min(pos, text.length()); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return IoErrors.error(source + ": invalid JSON at line " + line + ", column " + col + ": " + what);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /** The value as compact JSON on one line (no spaces), e.g. for one line of a .jsonl file. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1, 0);
        return sb.toString();
    }

    /** The value as indented JSON (two spaces), ending without a newline; arrays of scalars stay on one line. */
    public static String pretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 2, 0);
        return sb.toString();
    }

    /** A double as written into JSON: its shortest round-trip decimal, {@code null} when not finite. */
    public static String number(double d) {
        if (!Double.isFinite(d)) return "null";
        return Double.toString(d).replace('E', 'e');
    }

    private static void write(StringBuilder sb, Object v, int indent, int level) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Boolean b -> sb.append(b);
            case Double d -> sb.append(number(d));
            case Float f -> sb.append(number(f.doubleValue()));
            case Integer i -> sb.append(i);
            case Long l -> sb.append(l);
            case Short s -> sb.append(s);
            case Byte b -> sb.append(b);
            case Number n -> sb.append(number(n.doubleValue()));
            case Map<?, ?> m -> writeObject(sb, m, indent, level);
            case Collection<?> c -> writeArray(sb, new ArrayList<>(c), indent, level);
            case int[] a -> writeArray(sb, java.util.Arrays.stream(a).boxed().toList(), indent, level);
            case long[] a -> writeArray(sb, java.util.Arrays.stream(a).boxed().toList(), indent, level);
            case double[] a -> writeArray(sb, java.util.Arrays.stream(a).boxed().toList(), indent, level);
            case Object[] a -> writeArray(sb, java.util.Arrays.asList(a), indent, level);
            default -> throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
        }
    }

    private static void writeObject(StringBuilder sb, Map<?, ?> m, int indent, int level) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        sb.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
            }
            if (!first) sb.append(',');
            first = false;
            newline(sb, indent, level + 1);
            quote(sb, key);
            sb.append(indent >= 0 ? ": " : ":");
            write(sb, e.getValue(), indent, level + 1);
        }
        newline(sb, indent, level);
        sb.append('}');
    }

    private static void writeArray(StringBuilder sb, List<?> list, int indent, int level) {
        if (list.isEmpty()) {
            sb.append("[]");
            return;
        }
        boolean scalars = list.stream().noneMatch(x -> x instanceof Map<?, ?> || x instanceof Collection<?> || x instanceof Object[]);
        sb.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) sb.append(indent >= 0 && scalars ? ", " : ",");
            if (!scalars) newline(sb, indent, level + 1);
            write(sb, list.get(i), indent, level + 1);
        }
        if (!scalars) newline(sb, indent, level);
        sb.append(']');
    }

    private static void newline(StringBuilder sb, int indent, int level) {
        if (indent < 0) return;
        sb.append('\n');
        sb.append(" ".repeat(indent * level));
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
