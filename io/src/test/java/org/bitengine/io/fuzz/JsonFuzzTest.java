package org.bitengine.io.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.bitengine.io.json.Json;

/**
 * The JSON reader behind config.json, metrics.jsonl and safetensors headers; what it parses must
 * write back and parse to the same value (unless a number overflowed to infinity, which JSON cannot
 * hold and the writer turns into null).
 */
class JsonFuzzTest {

    @FuzzTest
    void json(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        FuzzSupport.expectOwnErrors(input.length, 256, () -> {
            Object v = Json.parse(text, "fuzz.json");
            Object again = Json.parse(Json.write(v), "rewritten");
            if (allFinite(v)) {
                assertEquals(v, again);
            }
        });
    }

    private static boolean allFinite(Object v) {
        return switch (v) {
            case Double d -> Double.isFinite(d);
            case List<?> l -> l.stream().allMatch(JsonFuzzTest::allFinite);
            case Map<?, ?> m -> m.values().stream().allMatch(JsonFuzzTest::allFinite);
            case null, default -> true;
        };
    }
}
