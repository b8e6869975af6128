package org.bitengine.io.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.bitengine.engine.BitEngineException;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse("{\"a\": [1, -2.5, 3e-05, 1E+2], \"b\": {\"c\": true, \"d\": false, \"e\": null}, \"s\": \"x\\\"\\\\\\/\\n\\u00e9\"}");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of(1.0, -2.5, 3e-05, 100.0), m.get("a"));
        Map<?, ?> b = (Map<?, ?>) m.get("b");
        assertEquals(Boolean.TRUE, b.get("c"));
        assertEquals(Boolean.FALSE, b.get("d"));
        assertTrue(b.containsKey("e"));
        assertNull(b.get("e"));
        assertEquals("x\"\\/\né", m.get("s"));
        assertEquals(List.of("a", "b", "s"), List.copyOf(m.keySet()), "key order kept");
    }

    @Test
    void pythonShortestDecimalsReadBackBitExactly() {
        // What Python's json.dumps writes for the official BiT learning rates.
        assertEquals(Double.doubleToRawLongBits(0.003 / 10), Double.doubleToRawLongBits((Double) Json.parse("0.00030000000000000003")));
        assertEquals(0.003 / 10 / 10, (Double) Json.parse("3.0000000000000004e-05"));
        assertEquals(-0.0, (Double) Json.parse("-0.0"));
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) Json.parse("-0.0")));
    }

    @Test
    void doublesRoundTripExactly() {
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            double d = switch (i % 4) {
                case 0 -> rng.nextDouble();
                case 1 -> Double.longBitsToDouble(rng.nextLong()); // any bit pattern, tiny to huge
                case 2 -> rng.nextDouble() * Math.pow(10, rng.nextInt(-300, 300));
                default -> (float) rng.nextGaussian();
            };
            if (!Double.isFinite(d)) continue;
            String text = Json.write(d);
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits((Double) Json.parse(text)), text);
        }
        assertEquals("3.0e-5", Json.write(3e-5));
        assertEquals("0.1", Json.write(0.1));
        assertEquals("0.30000000000000004", Json.write(0.1 + 0.2));
        assertEquals("1.0", Json.write(1.0));
    }

    @Test
    void writesStructuresAndIntegers() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", 12);
        m.put("big", 1L << 40);
        m.put("lr", 0.003);
        m.put("nan", Double.NaN);
        m.put("list", List.of(1, 2));
        m.put("ints", new int[] {3, 4});
        m.put("nested", Map.of("k", "v\t"));
        m.put("none", null);
        String s = Json.write(m);
        assertEquals("{\"step\":12,\"big\":1099511627776,\"lr\":0.003,\"nan\":null,\"list\":[1,2],\"ints\":[3,4],"
                + "\"nested\":{\"k\":\"v\\t\"},\"none\":null}", s);
        Map<?, ?> back = (Map<?, ?>) Json.parse(Json.pretty(m));
        assertEquals(12.0, back.get("step"));
        assertEquals(List.of(3.0, 4.0), back.get("ints"));
        assertEquals("v\t", ((Map<?, ?>) back.get("nested")).get("k"));
        assertTrue(Json.pretty(m).contains("\n  \"step\": 12,"), Json.pretty(m));
        assertTrue(Json.pretty(m).contains("\"list\": [1, 2]"), Json.pretty(m));
    }

    @Test
    void controlCharactersAreEscaped() {
        String s = "a\u0001b";
        assertEquals("\"a\\u0001b\"", Json.write(s));
        assertEquals(s, Json.parse(Json.write(s)));
    }

    @Test
    void syntaxErrorsNameSourceLineAndColumn() {
        for (String bad : List.of("{\"a\": 1,}", "[1 2]", "{\"a\" 1}", "01", "1.", "-", "\"abc", "tru", "{\"a\":1}x",
                "{\"a\":1,\"a\":2}", "\"\\q\"", "[", "", "NaN", "\"a\nb\"")) {
            BitEngineException e = assertThrows(BitEngineException.class, () -> Json.parse(bad, "config.json"), bad);
            assertTrue(e.getMessage().startsWith("config.json: invalid JSON at line "), e.getMessage());
            assertTrue(e.getMessage().lines().count() == 1, e.getMessage());
        }
        BitEngineException e = assertThrows(BitEngineException.class, () -> Json.parse("{\n  \"a\": [1,\n  2 x]}", "f"));
        assertTrue(e.getMessage().contains("line 3, column 5"), e.getMessage());
        char[] deep = new char[2000];
        Arrays.fill(deep, '[');
        assertThrows(BitEngineException.class, () -> Json.parse(new String(deep)));
    }

    @Test
    void objectHelpersCheckTheTopLevelType() {
        assertEquals(Map.of("a", 1.0), Json.parseObject("{\"a\":1}", "x"));
        BitEngineException e = assertThrows(BitEngineException.class, () -> Json.parseObject("[1]", "x.json"));
        assertTrue(e.getMessage().contains("x.json") && e.getMessage().contains("an array"), e.getMessage());
    }
}
