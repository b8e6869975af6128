package org.bitengine.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class ScheduleTest {

    @Test
    void bitScheduleFollowsTheOfficialGetLr() {
        Schedule s = Schedule.bit(HyperRule.schedule(1000), 0.003);
        assertEquals(500, s.totalSteps());
        assertEquals(0.0, s.lr(0));
        assertEquals(3e-05, s.lr(1));
        assertEquals(0.003, s.lr(200));
        assertEquals(0.00030000000000000003, s.lr(201));
        assertEquals(3.0000000000000004e-05, s.lr(301));
        assertEquals(3.0000000000000005e-06, s.lr(401));
        assertNull(s.lr(500));
        for (int step = 0; step < 520; step++) assertEquals(HyperRule.lr(step, 1000, 0.003), s.lr(step), "step " + step);
    }

    @Test
    void scalingToAStepCountKeepsTheProportions() {
        assertArrayEquals(new int[] {200, 400, 600, 800, 1000}, Schedule.scaleTo(new int[] {100, 200, 300, 400, 500}, 1000));
        assertArrayEquals(new int[] {100, 200, 300, 400, 500}, Schedule.scaleTo(new int[] {100, 200, 300, 400, 500}, 500));
        assertArrayEquals(new int[] {25, 150, 300, 450, 500}, Schedule.scaleTo(new int[] {500, 3000, 6000, 9000, 10000}, 500));
        int[] tiny = Schedule.scaleTo(new int[] {100, 200, 300, 400, 500}, 2);
        assertEquals(2, tiny[4]);
        Schedule s = Schedule.bit(tiny, 0.003);
        assertEquals(2, s.totalSteps());
        assertNull(s.lr(2));
    }

    @Test
    void constantSchedule() {
        Schedule s = Schedule.constant(3, 0.01);
        assertEquals(0.01, s.lr(0));
        assertEquals(0.01, s.lr(2));
        assertNull(s.lr(3));
    }

    @Test
    void resolutionByArea() {
        assertArrayEquals(new int[] {160, 128}, HyperRule.resolution(95, 97));
        assertArrayEquals(new int[] {512, 480}, HyperRule.resolution(48, 192));
        assertEquals(0.0, HyperRule.mixup(19_999));
        assertEquals(0.1, HyperRule.mixup(20_000));
    }
}
