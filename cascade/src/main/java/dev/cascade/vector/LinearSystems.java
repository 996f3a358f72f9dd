package dev.cascade.vector;

import java.util.Arrays;

/**
 * Small dense linear systems in double precision, for the scorers' and estimators' fits (tens to a
 * few hundred unknowns). Stateless and thread-safe.
 */
public final class LinearSystems {
  private LinearSystems() {}

  /**
   * Solves {@code a x = b} by Gauss-Jordan elimination with partial pivoting; {@code a} and {@code
   * b} are not modified. An unknown whose pivot vanishes (a singular system) is set to 0.
   */
  public static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      if (a[i].length != n) {
        throw new IllegalArgumentException(
            "row " + i + " has " + a[i].length + " columns, not " + n);
      }
      m[i] = Arrays.copyOf(a[i], n + 1);
      m[i][n] = b[i];
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
          pivot = r;
        }
      }
      double[] tmp = m[col];
      m[col] = m[pivot];
      m[pivot] = tmp;
      if (m[col][col] == 0) {
        continue;
      }
      for (int r = 0; r < n; r++) {
        if (r != col && m[r][col] != 0) {
          double f = m[r][col] / m[col][col];
          for (int c = col; c <= n; c++) {
            m[r][c] -= f * m[col][c];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = m[i][i] == 0 ? 0 : m[i][n] / m[i][i];
    }
    return x;
  }

  /**
   * Ridge regression with an unpenalised intercept: the {@code w}, {@code c} that minimise {@code Σ
   * (x_i·w + c − y_i)² + ridge·|w|²}.
   *
   * @param x rows of features, all of one length
   * @param y targets, one per row
   * @return the weights followed by the intercept
   */
  public static double[] ridge(float[][] x, double[] y, double ridge) {
    int n = x.length;
    if (n == 0 || y.length != n) {
      throw new IllegalArgumentException(n + " rows, " + y.length + " targets");
    }
    int d = x[0].length;
    double[] mean = new double[d];
    double yMean = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[i][j];
      }
      yMean += y[i];
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    yMean /= n;
    double[][] gram = new double[d][d];
    double[] rhs = new double[d];
    double[] centred = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        centred[j] = x[i][j] - mean[j];
      }
      double t = y[i] - yMean;
      for (int j = 0; j < d; j++) {
        double cj = centred[j];
        rhs[j] += cj * t;
        double[] row = gram[j];
        for (int k = j; k < d; k++) {
          row[k] += cj * centred[k];
        }
      }
    }
    for (int j = 0; j < d; j++) {
      for (int k = 0; k < j; k++) {
        gram[j][k] = gram[k][j];
      }
      gram[j][j] += ridge;
    }
    double[] w = solve(gram, rhs);
    double[] out = Arrays.copyOf(w, d + 1);
    double intercept = yMean;
    for (int j = 0; j < d; j++) {
      intercept -= w[j] * mean[j];
    }
    out[d] = intercept;
    return out;
  }
}
