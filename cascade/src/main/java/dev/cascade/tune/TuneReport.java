package dev.cascade.tune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The tuner's HTML report: quality (1 - risk) against mean layers for every candidate threshold
 * with the chosen one marked, the histogram of stop layers, and the candidates as a table. Charts
 * are drawn by Chart.js, inlined so that the page renders offline.
 */
public final class TuneReport {
  private static final String CHART_JS =
      "META-INF/resources/webjars/chart.js/4.5.1/dist/chart.umd.min.js";

  private TuneReport() {}

  /** Writes the report. */
  public static void write(Path file, Tuner.Result result, int layers) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ArrayNode points = json.createArrayNode();
    ArrayNode chosen = json.createArrayNode();
    StringBuilder rows = new StringBuilder();
    LearnThenTest.Outcome outcome = result.outcome();
    for (int k = 0; k < outcome.candidates().size(); k++) {
      LearnThenTest.Candidate c = outcome.candidates().get(k);
      ObjectNode p = json.createObjectNode();
      p.put("x", c.meanLayers());
      p.put("y", 1 - c.risk());
      p.put("lambda", c.lambda());
      (k == outcome.chosen() ? chosen : points).add(p);
      rows.append(
          String.format(
              Locale.ROOT,
              "<tr%s><td>%.3f</td><td>%.4f</td><td>%.2e</td><td>%.2f</td><td>%s</td></tr>%n",
              k == outcome.chosen() ? " class=chosen" : "",
              c.lambda(),
              c.risk(),
              c.pValue(),
              c.meanLayers(),
              c.tested() ? (c.certified() ? "certified" : "not certified") : "not tested"));
    }
    ArrayNode labels = json.createArrayNode();
    ArrayNode counts = json.createArrayNode();
    int[] exits = result.profile().exits();
    int[] histogram = result.stopHistogram();
    for (int e = 0; e < histogram.length; e++) {
      labels.add(e < exits.length ? "layer " + exits[e] : "layer " + layers + " (last)");
      counts.add(histogram[e]);
    }
    String chartJs;
    try (InputStream in = TuneReport.class.getClassLoader().getResourceAsStream(CHART_JS)) {
      if (in == null) {
        throw new IOException("Chart.js is not on the classpath (" + CHART_JS + ")");
      }
      chartJs = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String profile =
        json.writerWithDefaultPrettyPrinter().writeValueAsString(result.profile().toJson());
    String html =
        """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Cascade tuning: %1$s</title>
        <style>
          body { font-family: sans-serif; margin: 2em; max-width: 70em; }
          .charts { display: flex; gap: 2em; flex-wrap: wrap; }
          .chart { width: 32em; height: 22em; }
          table { border-collapse: collapse; font-size: 90%%; }
          td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }
          tr.chosen { background: #ffe08a; font-weight: bold; }
          pre { background: #f4f4f4; padding: 1em; overflow: auto; }
        </style>
        <script>%2$s</script></head>
        <body>
        <h1>Profile <code>%1$s</code></h1>
        <p>%3$s</p>
        <div class="charts">
          <div class="chart"><canvas id="tradeoff"></canvas></div>
          <div class="chart"><canvas id="stops"></canvas></div>
        </div>
        <h2>Candidates (most conservative first)</h2>
        <table><tr><th>&lambda;</th><th>risk</th><th>p-value</th><th>mean layers</th><th>test</th></tr>
        %4$s</table>
        <h2>Profile</h2><pre>%5$s</pre>
        <script>
        new Chart(document.getElementById('tradeoff'), {
          type: 'scatter',
          data: { datasets: [
            { label: 'candidates', data: %6$s, backgroundColor: '#4e79a7' },
            { label: 'chosen', data: %7$s, backgroundColor: '#e15759', pointRadius: 8 } ] },
          options: { maintainAspectRatio: false,
            plugins: { title: { display: true, text: 'Quality (1 - risk) against mean layers' } },
            scales: { x: { title: { display: true, text: 'mean layers (heads included)' } },
                      y: { title: { display: true, text: '1 - risk on calibration' } } } } });
        new Chart(document.getElementById('stops'), {
          type: 'bar',
          data: { labels: %8$s, datasets: [ { label: 'inputs stopping here', data: %9$s,
            backgroundColor: '#59a14f' } ] },
          options: { maintainAspectRatio: false,
            plugins: { title: { display: true, text: 'Exit layers at the chosen threshold' } } } });
        </script>
        </body></html>
        """
            .formatted(
                escape(result.profile().name()),
                chartJs,
                escape(result.profile().description()),
                rows,
                escape(profile),
                points,
                chosen,
                labels,
                counts);
    Files.writeString(file, html, StandardCharsets.UTF_8);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
