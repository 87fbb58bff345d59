/** Tailwind v3 configuration: scans the templ views for class names. */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go"],
  theme: {
    extend: {},
  },
  plugins: [],
};
