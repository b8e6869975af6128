package org.bitengine.io.torch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A minimal pickle virtual machine for what {@code torch.save} writes into {@code data.pkl}
 * (pickle protocol 2). It never imports or runs anything: {@code GLOBAL} only yields a
 * {@link Global} name, and {@code REDUCE} calls a Java function that the caller supplies for the few
 * callables it knows ({@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}).
 *
 * <p>Opcodes follow CPython's {@code Lib/pickletools.py} documentation. Values: Python int →
 * {@link Long}, float → {@link Double}, str → {@link String}, bool → {@link Boolean}, None →
 * {@code null}, tuple → {@link Tuple}, list → {@link ArrayList}, dict → {@link LinkedHashMap}.
 * Every malformed input ends in a {@link PickleException} with the byte position, which the caller
 * turns into a one-line error naming the file.
 */
final class Pickle {

    /** A {@code module name} reference pushed by GLOBAL. */
    record Global(String module, String name) {
        @Override
        public String toString() {
            return module + "." + name;
        }
    }

    /** A Python tuple (immutable, may hold nulls). */
    record Tuple(List<Object> items) {
        static Tuple of(Object... items) {
            return new Tuple(Collections.unmodifiableList(Arrays.asList(items)));
        }

        int size() {
            return items.size();
        }

        Object get(int i) {
            return items.get(i);
        }
    }

    /** A malformed or unsupported pickle; {@code position} is the byte offset of the failing opcode. */
    static final class PickleException extends RuntimeException {
        final long position;

        PickleException(String message, long position) {
            super(message);
            this.position = position;
        }
    }

    /** Calls a global with a tuple of arguments (REDUCE); throws PickleException for unknown ones. */
    interface Reducer {
        Object reduce(Global callable, Tuple args, long position);
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    /** Deepest nesting of MARKs; torch.save's state dicts need a handful. */
    private static final int MAX_MARKS = 10_000;

    private final byte[] data;
    private final Reducer reducer;
    private final Function<Object, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new java.util.HashMap<>();
    private int pos;

    private Pickle(byte[] data, Reducer reducer, Function<Object, Object> persistentLoad) {
        this.data = data;
        this.reducer = reducer;
        this.persistentLoad = persistentLoad;
    }

    /** Runs the pickle in {@code data} to its STOP and returns the value it leaves. */
    static Object load(byte[] data, Reducer reducer, Function<Object, Object> persistentLoad) {
        return new Pickle(data, reducer, persistentLoad).run();
    }

    private Object run() {
        while (true) {
            if (pos >= data.length) {
                throw new PickleException("the pickle ends without a STOP opcode (truncated)", pos);
            }
            int start = pos;
            int op = data[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u1(start);
                    if (proto > 5) {
                        throw new PickleException("unsupported pickle protocol " + proto, start);
                    }
                }
                case 0x95 -> pos += (int) Math.min(8, remaining()); // FRAME (protocol 4): ignore the length
                case 'c' -> { // GLOBAL module\nname\n
                    String module = line(start);
                    String name = line(start);
                    push(new Global(module, name));
                }
                case 'q' -> memo.put((long) u1(start), peek(start)); // BINPUT
                case 'r' -> memo.put(u4(start), peek(start)); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek(start)); // MEMOIZE
                case 'h' -> push(memoGet(u1(start), start)); // BINGET
                case 'j' -> push(memoGet(u4(start), start)); // LONG_BINGET
                case '(' -> { // MARK
                    if (marks.size() >= MAX_MARKS) {
                        throw new PickleException("too deeply nested", start);
                    }
                    marks.add(stack.size());
                    push(MARK);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ')' -> push(Tuple.of()); // EMPTY_TUPLE
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 't' -> push(new Tuple(Collections.unmodifiableList(Arrays.asList(popMark(start).toArray())))); // TUPLE
                case 0x85 -> push(Tuple.of(pop(start))); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop(start);
                    Object a = pop(start);
                    push(Tuple.of(a, b));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop(start);
                    Object b = pop(start);
                    Object a = pop(start);
                    push(Tuple.of(a, b, c));
                }
                case 's' -> { // SETITEM
                    Object v = pop(start);
                    Object k = pop(start);
                    dict(peek(start), start).put(hashable(k, 0, start), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark(start);
                    if (items.size() % 2 != 0) {
                        throw new PickleException("SETITEMS with an odd number of items", start);
                    }
                    Map<Object, Object> d = dict(peek(start), start);
                    for (int i = 0; i < items.size(); i += 2) {
                        d.put(hashable(items.get(i), 0, start), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object v = pop(start);
                    list(peek(start), start).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark(start);
                    list(peek(start), start).addAll(items);
                }
                case 'J' -> push((long) (int) u4(start)); // BININT (signed)
                case 'K' -> push((long) u1(start)); // BININT1
                case 'M' -> push((long) u2(start)); // BININT2
                case 0x8a -> push(long1(start)); // LONG1
                case 'G' -> push(Double.longBitsToDouble(bigEndianLong(start))); // BINFLOAT (big-endian)
                case 'X' -> push(string(u4(start), start)); // BINUNICODE
                case 0x8c -> push(string(u1(start), start)); // SHORT_BINUNICODE
                case 'T' -> push(string((int) u4(start), start)); // BINSTRING (signed length)
                case 'U' -> push(string(u1(start), start)); // SHORT_BINSTRING
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                case 'R' -> { // REDUCE
                    Object args = pop(start);
                    Object callable = pop(start);
                    if (!(callable instanceof Global g)) {
                        throw new PickleException("REDUCE on " + describe(callable) + ", not a global", start);
                    }
                    if (!(args instanceof Tuple t)) {
                        throw new PickleException("REDUCE with " + describe(args) + " arguments, not a tuple", start);
                    }
                    push(reducer.reduce(g, t, start));
                }
                case 'b' -> { // BUILD: the state of dicts and tensors (torch's _metadata) is not needed
                    Object state = pop(start);
                    Object target = peek(start);
                    if (target instanceof Global || target == MARK) {
                        throw new PickleException("BUILD on " + describe(target), start);
                    }
                    if (state == MARK) {
                        throw new PickleException("BUILD with a MARK as state", start);
                    }
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop(start);
                    push(persistentLoad.apply(pid));
                }
                case '.' -> { // STOP
                    Object result = pop(start);
                    if (result == MARK) {
                        throw new PickleException("STOP with a MARK on the stack", start);
                    }
                    return result;
                }
                default -> throw new PickleException(String.format("unsupported pickle opcode 0x%02x", op), start);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop(int at) {
        if (stack.isEmpty()) {
            throw new PickleException("stack underflow", at);
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw new PickleException("unexpected MARK", at);
        }
        return o;
    }

    private Object peek(int at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw new PickleException("stack underflow", at);
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(int at) {
        if (marks.isEmpty()) {
            throw new PickleException("no MARK to pop to", at);
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private Object memoGet(long index, int at) {
        if (!memo.containsKey(index)) {
            throw new PickleException("memo entry " + index + " was never stored", at);
        }
        return memo.get(index);
    }

    /** Tuples nested deeper than this are refused as dict keys: hashing them recurses. */
    private static final int MAX_KEY_DEPTH = 64;

    /**
     * {@code key}, if Python could use it as a dict key. A dict or list cannot be one (Python raises
     * "unhashable type"), and here hashing a dict that holds itself, which memo references can build,
     * would recurse until the stack overflows.
     */
    private static Object hashable(Object key, int depth, int at) {
        if (key instanceof Map<?, ?> || key instanceof List<?> || key == MARK) {
            throw new PickleException("unhashable dict key: " + describe(key), at);
        }
        if (key instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) {
                throw new PickleException("dict key nested deeper than " + MAX_KEY_DEPTH + " tuples", at);
            }
            for (Object item : t.items()) {
                hashable(item, depth + 1, at);
            }
        }
        return key;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object o, int at) {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new PickleException("SETITEM(S) on " + describe(o) + ", not a dict", at);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, int at) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw new PickleException("APPEND(S) on " + describe(o) + ", not a list", at);
    }

    static String describe(Object o) {
        return switch (o) {
            case null -> "None";
            case Global g -> "global " + g;
            case Tuple t -> "a tuple";
            case String s -> "a str";
            case Long l -> "an int";
            case Map<?, ?> m -> "a dict";
            case List<?> l -> "a list";
            default -> o == MARK ? "a MARK" : "a " + o.getClass().getSimpleName();
        };
    }

    private long remaining() {
        return data.length - pos;
    }

    private void need(long n, int at) {
        if (n < 0 || n > remaining()) {
            throw new PickleException("the pickle ends inside an opcode (truncated)", at);
        }
    }

    private int u1(int at) {
        need(1, at);
        return data[pos++] & 0xFF;
    }

    private int u2(int at) {
        need(2, at);
        int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private long u4(int at) {
        need(4, at);
        long v = (data[pos] & 0xFFL) | (data[pos + 1] & 0xFFL) << 8 | (data[pos + 2] & 0xFFL) << 16
                | (data[pos + 3] & 0xFFL) << 24;
        pos += 4;
        return v;
    }

    private long bigEndianLong(int at) {
        need(8, at);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (data[pos++] & 0xFFL);
        }
        return v;
    }

    private Long long1(int at) {
        int n = u1(at);
        if (n > 8) {
            throw new PickleException("integer of " + n + " bytes does not fit in 64 bits", at);
        }
        need(n, at);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = v << 8 | (data[pos + i] & 0xFFL);
        }
        if (n > 0 && n < 8 && (data[pos + n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // two's complement sign
        }
        pos += n;
        return v;
    }

    private String string(long length, int at) {
        need(length, at);
        String s = new String(data, pos, (int) length, StandardCharsets.UTF_8);
        pos += (int) length;
        return s;
    }

    private String line(int at) {
        int end = pos;
        while (end < data.length && data[end] != '\n') {
            end++;
        }
        if (end >= data.length) {
            throw new PickleException("the pickle ends inside a GLOBAL (truncated)", at);
        }
        String s = new String(data, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }
}
