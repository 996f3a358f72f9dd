package dev.cascade.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cascade.confidence.LogisticConfidence;
import dev.cascade.confidence.SaturationConfidence;
import dev.cascade.encoder.EncoderModel;
import dev.cascade.encoder.EncoderOptions;
import dev.cascade.exit.ExitHeads;
import dev.cascade.exit.HeadType;
import dev.cascade.exit.HeadWeights;
import dev.cascade.exit.HeadsFile;
import dev.cascade.model.BertWeights;
import dev.cascade.model.ModelSpec;
import dev.cascade.model.OnnxBertReader;
import dev.cascade.policy.ExitBounds;
import dev.cascade.policy.Profile;
import dev.cascade.policy.StopReason;
import dev.cascade.tokenize.TokenizedInput;
import dev.cascade.tokenize.Truncation;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CascadeEngineTest {
  private static final int[] EXITS = {2, 4};
  private static EncoderModel model;
  private static ExitHeads heads;
  private static CascadeEngine engine;
  private static List<TokenizedInput> inputs;

  @BeforeAll
  static void load() throws Exception {
    ModelSpec spec = ModelSpec.builtIn("all-minilm-l6-v2");
    BertWeights weights;
    try (InputStream in = spec.openWeights()) {
      weights = OnnxBertReader.read(in);
    }
    model = EncoderModel.load(spec, EncoderOptions.defaults());
    List<HeadWeights> list = new ArrayList<>();
    for (int layer : EXITS) {
      list.add(HeadWeights.fromLastLayer(weights, layer, HeadType.NARROW));
    }
    HeadsFile file = new HeadsFile(spec.name(), weights.checksum(), list, null);
    heads = new ExitHeads(file, weights.config(), spec.pooling(), EncoderOptions.defaults());
    engine = new CascadeEngine(model, heads);
    inputs =
        model
            .tokenizer()
            .tokenize(
                List.of("short", "a somewhat longer sentence about files", "third input here"),
                Truncation.REFUSE);
  }

  @AfterAll
  static void close() {
    heads.close();
    model.close();
  }

  /** Stops every input at the second exit: no threshold at the first, 0 at the second. */
  private static Profile stopAtSecondExit() {
    return new Profile(
        "test",
        "",
        model.spec().name(),
        model.checksum(),
        EXITS,
        SaturationConfidence.INSTANCE,
        new double[] {Double.NaN, 0},
        null,
        Double.NaN);
  }

  private static List<ExitEvent> run(Profile profile, ExitBounds bounds, RunSummary[] summary) {
    List<ExitEvent> events = new ArrayList<>();
    summary[0] = engine.run(inputs, profile, bounds, events::add, () -> null);
    return events;
  }

  @Test
  void run_exactProfile_everyInputReachesLastLayerWithExitsStreamed() {
    RunSummary[] summary = new RunSummary[1];
    List<ExitEvent> events =
        run(Profile.exact(model.spec().name(), model.checksum(), EXITS), ExitBounds.NONE, summary);
    for (int i = 0; i < inputs.size(); i++) {
      int input = i;
      List<ExitEvent> mine = events.stream().filter(e -> e.input() == input).toList();
      assertEquals(List.of(2, 4, 6), mine.stream().map(ExitEvent::layer).toList());
      assertTrue(mine.get(2).isFinal());
      assertEquals(StopReason.LAST_LAYER, mine.get(2).reason());
      assertEquals(1.0, mine.get(2).confidence());
    }
    float[][] reference = model.encoder().encode(inputs);
    for (ExitEvent e : events) {
      if (e.isFinal()) {
        assertArrayEquals(reference[e.input()], e.embedding(), 1e-5f);
      }
    }
    assertEquals(6L * inputs.size(), summary[0].layersComputed());
    assertEquals(0, summary[0].layersSaved());
    assertNull(summary[0].stopped());
  }

  @Test
  void run_confidentAtSecondExit_stopsThereAndSavesLayers() {
    RunSummary[] summary = new RunSummary[1];
    List<ExitEvent> events = run(stopAtSecondExit(), ExitBounds.NONE, summary);
    List<ExitEvent> finals = events.stream().filter(ExitEvent::isFinal).toList();
    assertEquals(inputs.size(), finals.size());
    for (ExitEvent e : finals) {
      assertEquals(4, e.layer());
      assertEquals(StopReason.CONFIDENT, e.reason());
    }
    assertEquals(4L * inputs.size(), summary[0].layersComputed());
    assertEquals(2L * inputs.size(), summary[0].layersSaved());
    assertEquals(2L * inputs.size(), summary[0].headsEvaluated());
  }

  @Test
  void run_minExitAboveConfidentExit_runsOnToTheLastLayer() {
    RunSummary[] summary = new RunSummary[1];
    List<ExitEvent> events = run(stopAtSecondExit(), new ExitBounds(5, 0), summary);
    events.stream()
        .filter(ExitEvent::isFinal)
        .forEach(e -> assertEquals(StopReason.LAST_LAYER, e.reason()));
    assertEquals(6L * inputs.size(), summary[0].layersComputed());
  }

  @Test
  void run_maxExitAtFirstExit_stopsThereWithMaxExit() {
    RunSummary[] summary = new RunSummary[1];
    List<ExitEvent> events =
        run(
            Profile.exact(model.spec().name(), model.checksum(), EXITS),
            new ExitBounds(0, 3),
            summary);
    for (ExitEvent e : events) {
      assertEquals(2, e.layer());
      assertTrue(e.isFinal());
      assertEquals(StopReason.MAX_EXIT, e.reason());
    }
    assertEquals(2L * inputs.size(), summary[0].layersComputed());
  }

  @Test
  void run_cancelledAfterThreeLayers_computesNoMoreLayersAndSendsNoFinal() {
    AtomicInteger asked = new AtomicInteger();
    List<ExitEvent> events = new ArrayList<>();
    RunSummary summary =
        engine.run(
            inputs,
            Profile.exact(model.spec().name(), model.checksum(), EXITS),
            ExitBounds.NONE,
            events::add,
            () -> asked.incrementAndGet() > 4 ? StopReason.CANCELLED : null);
    assertEquals(3L * inputs.size(), summary.layersComputed(), "layers 4 to 6 never ran");
    assertEquals(StopReason.CANCELLED, summary.stopped());
    assertTrue(events.stream().noneMatch(ExitEvent::isFinal));
    assertEquals(inputs.size(), events.size(), "only the exit at layer 2 was reached");
  }

  @Test
  void run_badBounds_refusedBeforeAnyWork() {
    Profile exact = Profile.exact(model.spec().name(), model.checksum(), EXITS);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> engine.run(inputs, exact, new ExitBounds(0, 1), x -> {}, () -> null));
    assertTrue(e.getMessage().contains("below the first exit layer 2"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> engine.run(inputs, exact, new ExitBounds(7, 0), x -> {}, () -> null));
    assertTrue(e.getMessage().contains("beyond the model's 6 layers"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ExitBounds(5, 3));
  }

  @Test
  void check_profileForAnotherModel_refused() {
    Profile other =
        new Profile(
            "other",
            "",
            "bge-small-en-v1.5",
            "f".repeat(64),
            EXITS,
            SaturationConfidence.INSTANCE,
            new double[] {0, 0},
            null,
            Double.NaN);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> engine.check(other));
    assertTrue(e.getMessage().contains("was made for model bge-small-en-v1.5"), e.getMessage());
  }

  @Test
  void check_scorerOnTheAgreementEstimate_refusedForHeadsWithout() {
    Profile estimating =
        new Profile(
            "estimating",
            "",
            model.spec().name(),
            model.checksum(),
            EXITS,
            new LogisticConfidence(
                List.of("saturation", "estimate"),
                new double[][] {{1, 1}, {1, 1}},
                new double[] {0, 0}),
            new double[] {0.5, 0.5},
            null,
            Double.NaN);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> engine.check(estimating));
    assertTrue(e.getMessage().contains("agreement estimate"), e.getMessage());
    assertTrue(e.getMessage().contains("layer 2"), e.getMessage());
  }

  @Test
  void step_inputsOfDifferentRequestsJoiningAtDifferentLayers_matchTheirOwnRuns() {
    Profile exact = Profile.exact(model.spec().name(), model.checksum(), EXITS);
    Profile early = stopAtSecondExit();
    Profile[] profiles = {exact, early, exact};
    List<List<ExitEvent>> stepped = new ArrayList<>();
    List<InputRun> runs = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      List<ExitEvent> events = new ArrayList<>();
      stepped.add(events);
      runs.add(new InputRun(inputs.get(i), i, profiles[i], ExitBounds.NONE, engine, events::add));
    }
    engine.step(List.of(runs.get(0)));
    engine.step(List.of(runs.get(1), runs.get(2)));
    while (runs.stream().anyMatch(r -> !r.finished())) {
      engine.step(runs.stream().filter(r -> !r.finished()).toList());
    }
    assertEquals(4, runs.get(1).layer(), "the early profile stopped its input at layer 4");
    assertEquals(6, runs.get(0).layer());
    for (int i = 0; i < inputs.size(); i++) {
      List<ExitEvent> alone = new ArrayList<>();
      engine.run(List.of(inputs.get(i)), profiles[i], ExitBounds.NONE, alone::add, () -> null);
      assertEquals(alone.size(), stepped.get(i).size());
      for (int k = 0; k < alone.size(); k++) {
        ExitEvent expected = alone.get(k);
        ExitEvent actual = stepped.get(i).get(k);
        assertEquals(i, actual.input());
        assertEquals(expected.layer(), actual.layer());
        assertEquals(expected.isFinal(), actual.isFinal());
        assertEquals(expected.reason(), actual.reason());
        assertArrayEquals(expected.embedding(), actual.embedding(), 2e-5f);
      }
    }
  }

  @Test
  void step_inputsAtDifferentLayers_refused() {
    Profile exact = Profile.exact(model.spec().name(), model.checksum(), EXITS);
    InputRun a = new InputRun(inputs.get(0), 0, exact, ExitBounds.NONE, engine, e -> {});
    InputRun b = new InputRun(inputs.get(1), 1, exact, ExitBounds.NONE, engine, e -> {});
    engine.step(List.of(a));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> engine.step(List.of(a, b)));
    assertTrue(e.getMessage().contains("at one layer"), e.getMessage());
  }

  @Test
  void exactProfileForFinalsOnly_runsNoHeadButAtAMaximumExit() {
    Profile exact = Profile.exact(model.spec().name(), model.checksum(), EXITS);
    List<ExitEvent> finals = new ArrayList<>();
    RunSummary summary =
        engine.run(
            inputs, exact, ExitBounds.NONE, ExitListener.finalsOnly(finals::add), () -> null);
    assertEquals(0, summary.headsEvaluated());
    assertEquals(inputs.size(), finals.size());
    float[][] reference = model.encoder().encode(inputs);
    for (ExitEvent e : finals) {
      assertArrayEquals(reference[e.input()], e.embedding(), 1e-5f);
    }

    List<ExitEvent> capped = new ArrayList<>();
    summary =
        engine.run(
            inputs, exact, new ExitBounds(0, 3), ExitListener.finalsOnly(capped::add), () -> null);
    assertEquals(
        inputs.size(), summary.headsEvaluated(), "the head at the maximum exit still runs");
    capped.forEach(e -> assertEquals(StopReason.MAX_EXIT, e.reason()));

    List<ExitEvent> stepped = new ArrayList<>();
    InputRun run =
        new InputRun(
            inputs.get(0),
            0,
            exact,
            ExitBounds.NONE,
            engine,
            ExitListener.finalsOnly(stepped::add));
    while (!run.finished()) {
      engine.step(List.of(run));
    }
    assertEquals(0, run.headsEvaluated());
    assertArrayEquals(reference[0], stepped.get(0).embedding(), 2e-5f);
  }
}
