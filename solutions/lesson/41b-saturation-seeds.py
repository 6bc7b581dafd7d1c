saturation = st.saturation_study(X, Y)
st.show(saturation)
st.plot_saturation_study(saturation)
