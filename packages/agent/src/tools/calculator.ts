/**
 * A small, safe arithmetic evaluator (no eval): numbers, + - * / % ^, unary minus, parentheses.
 */
export function evaluate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?|\.\d+|[-+*/%^()]|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const take = () => tokens[pos++];

  const primary = (): number => {
    const t = take();
    if (t === "(") {
      const v = sum();
      if (take() !== ")") throw new Error("missing )");
      return v;
    }
    if (t !== undefined && /^(\d|\.\d)/.test(t)) return Number(t);
    throw new Error(t === undefined ? "unexpected end of expression" : `unexpected "${t}"`);
  };
  const unary = (): number => {
    if (peek() === "-") {
      take();
      return -unary();
    }
    if (peek() === "+") {
      take();
      return unary();
    }
    return primary();
  };
  const power = (): number => {
    const base = unary();
    if (peek() === "^") {
      take();
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    for (let op = peek(); op === "*" || op === "/" || op === "%"; op = peek()) {
      take();
      const rhs = power();
      if ((op === "/" || op === "%") && rhs === 0) throw new Error("division by zero");
      v = op === "*" ? v * rhs : op === "/" ? v / rhs : v % rhs;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    for (let op = peek(); op === "+" || op === "-"; op = peek()) {
      take();
      const rhs = product();
      v = op === "+" ? v + rhs : v - rhs;
    }
    return v;
  };

  const value = sum();
  if (pos !== tokens.length) throw new Error(`unexpected "${tokens[pos]}"`);
  if (!Number.isFinite(value)) throw new Error("result is not finite");
  return Number(value.toPrecision(12));
}

/** The longest arithmetic-looking run in `text` (a digit, an operator, an operand), if any. */
export function findExpression(text: string): string | undefined {
  const candidates = (text.match(/[-+*/%^().\d\s]+/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => /\d/.test(s) && /\d\s*[-+*/%^]\s*[-+(.\d]/.test(s))
    .sort((a, b) => b.length - a.length);
  return candidates[0];
}
